"""What every upload goes through, in one place (the meeting attachments and the workbook import).

- **Size**: `UPLOAD_MAX_MB` (a setting). A page POST whose declared length is over it (plus a little
  for the form's other fields) is refused by `UploadSizeMiddleware` before any of the body is read
  (the CSRF check would otherwise parse the whole multipart body first); `check_upload` checks the
  file's own size too.
- **Type**: decided by the file's content (its signature, read by `filetype`), never by the name
  or the browser's declared type alone, and the content must match the extension: a renamed .exe
  or HTML page is not a PDF. A .docx/.xlsx must be a zip holding `[Content_Types].xml` and the
  `word/` or `xl/` part; a .txt must be text (UTF-8 or GB18030, no NUL bytes).
- **Names**: the file is stored under a random name (`stored_name`), never the user's; the name
  shown and offered on download is `display_name`, cleaned of paths, control and direction
  characters.

Each refusal is a `ValidationError` on `file` with a Chinese message; nothing is stored.
"""

import os
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme

HEAD_BYTES = 8192  # enough for every signature filetype reads
FORM_SLACK = 1024 * 1024  # the form's other fields and the multipart framing around the file


@dataclass(frozen=True)
class Kind:
    label: str
    content_type: str


KINDS = {
    "pdf": Kind("PDF", "application/pdf"),
    "jpg": Kind("JPG 图片", "image/jpeg"),
    "png": Kind("PNG 图片", "image/png"),
    "docx": Kind("Word 文档", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": Kind("Excel 工作簿", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "doc": Kind("Word 97-2003 文档", "application/msword"),
    "xls": Kind("Excel 97-2003 工作簿", "application/vnd.ms-excel"),
    "txt": Kind("文本文件", "text/plain; charset=utf-8"),
}
# extension → the kind its content must be
EXTENSIONS = {".pdf": "pdf", ".jpg": "jpg", ".jpeg": "jpg", ".png": "png", ".docx": "docx", ".xlsx": "xlsx",
              ".doc": "doc", ".xls": "xls", ".txt": "txt"}
ATTACHMENT_EXTENSIONS = frozenset(EXTENSIONS)
WORKBOOK_EXTENSIONS = frozenset({".xlsx"})
OOXML_PARTS = {"docx": "word/", "xlsx": "xl/"}
OCTET_STREAM = "application/octet-stream"
MARKUP = re.compile(rb"<\s*(!doctype|html|head|body|script|svg|iframe|object|embed|\?xml)", re.IGNORECASE)


def max_bytes() -> int:
    return settings.UPLOAD_MAX_MB * 1024 * 1024


def too_large_message() -> str:
    return f"文件不能超过 {settings.UPLOAD_MAX_MB} MB，未上传。"


def extension_of(name: str) -> str:
    return os.path.splitext(name or "")[1].lower()


def content_type_for(name: str) -> str:
    """The type a stored file is served as, from its (checked) extension; octet-stream otherwise."""
    kind = EXTENSIONS.get(extension_of(name))
    return KINDS[kind].content_type if kind else OCTET_STREAM


def _refuse(message: str):
    raise ValidationError({"file": message})


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut at the end of the head
                return True
    return False


def _ooxml_kind(upload) -> str | None:
    """docx/xlsx when the zip holds [Content_Types].xml and that format's part; else None."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    finally:
        upload.seek(0)
    if "[Content_Types].xml" not in names:
        return None
    for kind, part in OOXML_PARTS.items():
        if any(name.startswith(part) for name in names):
            return kind
    return None


def sniff(upload) -> str | None:
    """The kind the content is (a key of KINDS), or None for anything else (an executable, HTML
    with an invalid byte, a zip that is not a document ...)."""
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    if head.startswith(b"PK\x03\x04"):
        return _ooxml_kind(upload)
    guessed = filetype.guess(head)
    if guessed is not None:
        kind = guessed.extension
        return kind if kind in KINDS and kind not in OOXML_PARTS else None
    if MARKUP.search(head[:1024]):  # HTML or SVG, whatever it is named: a browser would run it
        return None
    return "txt" if _looks_like_text(head) else None


def check_upload(upload, *, allowed: frozenset[str] = ATTACHMENT_EXTENSIONS) -> str:
    """Refuse an upload that is too large, of a type not in `allowed` (extensions), or whose content
    is not what its extension says. Returns the kind. Nothing is stored here."""
    name = display_name(upload.name or "")
    extension = extension_of(name)
    if extension not in allowed:
        accepted = "、".join(sorted({KINDS[EXTENSIONS[e]].label for e in allowed}))
        _refuse(f"不支持该文件类型，只接受：{accepted}。")
    if upload.size is None or upload.size > max_bytes():
        _refuse(too_large_message())
    if upload.size == 0:
        _refuse("文件是空的。")
    kind, expected = sniff(upload), EXTENSIONS[extension]
    if kind != expected:
        if expected in OOXML_PARTS and _is_zip(upload):
            _refuse(f"文件内容与扩展名不符：不是有效的{KINDS[expected].label}，未上传。")
        _refuse("文件内容与扩展名不符，未上传。")
    return kind


def _is_zip(upload) -> bool:
    upload.seek(0)
    head = upload.read(4)
    upload.seek(0)
    return head == b"PK\x03\x04"


_UNSAFE = re.compile(r'[\\/:*?"<>|]')


def display_name(name: str, *, max_length: int = 200) -> str:
    """The user's file name made safe to show and to offer back: no directories, no control or
    direction-changing characters (U+202E would show "gpj.exe" as "exe.jpg"), no characters that
    Windows refuses, no leading dots; cut to `max_length` keeping the extension."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", name))
    name = " ".join(name.split()).lstrip(".").strip()
    stem, extension = os.path.splitext(name)
    if not stem:
        stem = "附件"
    extension = extension[:16]
    return stem[: max_length - len(extension)] + extension


def stored_name(name: str) -> str:
    """A random name for the file on disk, with the checked extension only."""
    return f"{uuid.uuid4().hex}{extension_of(display_name(name))}"


class UploadSizeMiddleware:
    """Refuse a POST whose declared body is larger than an upload may be, before anything reads it.
    Pages get their message back on the page they came from; the API its JSON 413."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and self._declared_length(request) > max_bytes() + FORM_SLACK:
            return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _declared_length(request) -> int:
        try:
            return int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 0

    @staticmethod
    def _refuse(request):
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": too_large_message(), "errors": {}}, status=413,
                                json_dumps_params={"ensure_ascii": False})
        messages.error(request, too_large_message())
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
            back = "/"
        return HttpResponseRedirect(back)
