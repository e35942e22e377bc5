"""Chinese resident ID numbers (GB 11643-1999), phone numbers and people's names: validation,
normalisation and masking."""

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$", re.ASCII)
_PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$", re.ASCII)


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits (ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize_id_number(raw: str) -> str:
    return (raw or "").strip().upper().replace(" ", "").replace("ｘ", "X").replace("Ｘ", "X")


def validate_id_number(raw: str) -> None:
    """Raise ValidationError (Chinese message) unless `raw` is a valid 18-character ID number."""
    number = normalize_id_number(raw)
    if not _ID_RE.match(number):
        raise ValidationError("身份证号应为18位：前17位为数字，最后一位为数字或X。", code="id_format")
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError("身份证号中的出生日期不存在，请核对第7至14位。", code="id_birth") from None
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError("身份证号校验位不正确，请核对是否有输错的数字。", code="id_checksum")


def birth_date_from_id(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def gender_from_id(number: str) -> str:
    return "male" if int(number[16]) % 2 else "female"


_HAN = r"[\u3400-\u9fff\uf900-\ufaff]"
_SPACE_BETWEEN_HAN = re.compile(rf"(?<={_HAN})\s+(?={_HAN}|·)|(?<=·)\s+(?={_HAN})|(?<={_HAN})\s+(?=·)")
# The separator of transcribed names (阿依古丽·买买提) as people type it: full-width dot, bullet,
# katakana middle dot, hyphenation point. One form, U+00B7, so the same person is not two names.
_NAME_DOTS = re.compile(r"[．・•‧∙⋅]")


def normalize_person_name(raw: str) -> str:
    """A name as it should be stored: spaces between Chinese characters dropped (吴  辉, 吴　辉 →
    吴辉), the dot of transcribed names in one form, other runs of spaces (a name in Latin
    letters) single. Full-width letters fold to half-width."""
    name = unicodedata.normalize("NFKC", _NAME_DOTS.sub("·", raw or ""))
    name = _SPACE_BETWEEN_HAN.sub("", name)
    return re.sub(r"\s+", " ", name).strip()


def normalize_phone(raw: str) -> str:
    return (raw or "").strip().replace(" ", "")


def validate_phone(raw: str) -> None:
    if raw and not _PHONE_RE.match(normalize_phone(raw)):
        raise ValidationError("电话号码格式不正确：手机号为11位数字，固定电话如 0571-87654321。", code="phone")


def mask_id_number(number: str) -> str:
    """Keep the first 4 (province and city) and the last 2 characters. The common "first 6, last 4"
    mask hides exactly the birth date, which the roster shows beside it: together they would give
    the whole number back. This mask leaves district, birth date and most of the sequence hidden."""
    if not number:
        return ""
    return number[:4] + "*" * (len(number) - 6) + number[-2:]


def mask_phone(number: str) -> str:
    if not number:
        return ""
    if len(number) == 11 and number.isdigit():
        return number[:3] + "****" + number[-4:]
    return number[:-4].rstrip("-")[:4] + "****" + number[-2:]
