"""The roster's sort key: names in 拼音 order, as people look them up in a printed 花名册.

A database compares text by code point, which puts 张 (U+5F20) before 白 (U+767D) and 吕 far
from 卢. So each member's name is stored with a key (`Member.name_key`, filled by the services) that
sorts right by plain comparison, in SQLite and PostgreSQL alike, and can be indexed.

The key spells each character as pinyin, tone number and the character itself:

    name_key("张三")  -> "zhang1张san1三"
    name_key("赵四")  -> "zhao4赵si4四"

- by syllable first, so 安 < 白 < 张 < 赵, and the tone digit ends the syllable, so zhan (战) sorts
  before zhang (张), as in a dictionary;
- then by tone, then by the character, so all 张 are together and apart from 章 (also zhang1);
- ü is written v (lv3 吕 after lu 卢); letters of a Latin name sort lower-case among the syllables;
  spaces and punctuation (the · of 买买提·艾力) are left out; a character without a reading keeps
  its place by code point.
- The first character is read as a surname where its common reading differs: 单 shàn, 曾 zēng,
  解 xiè, 仇 qiú, 区 ōu, 朴 piáo, 查 zhā, 翟 zhái… (compound surnames such as 尉迟 and 单于 are
  read by pypinyin's phrase list).
- The key is cut (at a character) to `MAX_BYTES` of UTF-8, so a page cursor carrying it stays
  within `core.cursors.MAX_LENGTH`; names sharing that long a beginning are ordered by id.

Changing this function changes the order of names saved before: run `manage.py rebuild_name_keys`.
"""

import functools
import unicodedata

MAX_LENGTH = 100  # the model field's length, in characters
MAX_BYTES = 96  # UTF-8 bytes: a cursor ["<key>", <id>] then stays under 200 characters of base64

# Single-character surnames whose reading as a surname is not the character's most common one.
SURNAME_READINGS = {
    "单": "shan4", "曾": "zeng1", "解": "xie4", "仇": "qiu2", "区": "ou1", "朴": "piao2", "查": "zha1",
    "盖": "ge3", "翟": "zhai2", "覃": "qin2", "缪": "miao4", "乐": "yue4", "召": "shao4", "员": "yun4",
    "种": "chong2", "繁": "po2", "秘": "bi4", "那": "na1", "尉": "wei4", "长": "chang2", "折": "she2",
    "句": "gou1", "宿": "su4", "纪": "ji3", "华": "hua4", "任": "ren2", "沈": "shen3", "冼": "xian3",
    "谌": "chen2", "阚": "kan4", "郇": "huan2", "都": "du1", "柏": "bai3", "薄": "bo2", "燕": "yan1",
    "应": "ying1", "宁": "ning4", "过": "guo1", "贲": "ben1", "隗": "wei3", "蕃": "pi2", "眭": "sui1",
}
# Compound surnames beginning with one of the characters above: pypinyin's phrases read them.
COMPOUND_SURNAMES = {"单于", "尉迟", "长孙"}


@functools.cache
def _pinyin():
    # Imported on first use: pypinyin loads its dictionaries (~0.3 s) when imported.
    from pypinyin import Style, lazy_pinyin

    return functools.partial(lazy_pinyin, style=Style.TONE3, neutral_tone_with_five=True,
                             errors=lambda text: list(text))


def name_key(name: str) -> str:
    """The sort key of `name` (see the module's docstring); "" for a name with nothing to sort by."""
    chars = [c for c in unicodedata.normalize("NFKC", name or "") if c.isalnum()]
    if not chars:
        return ""
    readings = _pinyin()("".join(chars))
    if len(readings) != len(chars):  # pypinyin grouped something: read character by character
        readings = [(_pinyin()(c) or [c])[0] for c in chars]
    if chars[0] in SURNAME_READINGS and "".join(chars[:2]) not in COMPOUND_SURNAMES:
        readings[0] = SURNAME_READINGS[chars[0]]
    key, size = [], 0
    for char, reading in zip(chars, readings, strict=True):
        part = char.casefold() if reading == char else f"{reading}{char}"
        size += len(part.encode())
        if size > MAX_BYTES or sum(map(len, key)) + len(part) > MAX_LENGTH:
            break
        key.append(part)
    return "".join(key)


def fill_name_keys(members, *, batch_size: int = 1000) -> int:
    """Recompute the key of every member in the queryset `members` whose stored key differs;
    returns how many changed. Reads (id, name, name_key) in id order and writes in batches, so
    memory stays flat at any roster size. Used by the migration that added the key and by
    `manage.py rebuild_name_keys` (after a change to `name_key`)."""
    changed, batch = 0, []
    for member in members.only("id", "name", "name_key").order_by("id").iterator(chunk_size=batch_size):
        key = name_key(member.name)
        if key != member.name_key:
            member.name_key = key
            batch.append(member)
        if len(batch) >= batch_size:
            changed += len(batch)
            members.model.objects.bulk_update(batch, ["name_key"])
            batch = []
    if batch:
        changed += len(batch)
        members.model.objects.bulk_update(batch, ["name_key"])
    return changed
