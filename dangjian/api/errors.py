"""Every error the API answers is JSON `{"detail": "<Chinese sentence>", "errors": {field: message}}`.

- Service `ValidationError` (Chinese messages, by field)   → 422
- malformed input caught by the schemas (pydantic)        → 422, messages translated to Chinese
- body that is not JSON                                   → 400
- body sent as something other than JSON (Content-Type)   → 415
- body larger than DATA_UPLOAD_MAX_MEMORY_SIZE            → 413 (refused before it is read)
- an Idempotency-Key reused for another request           → 422; its first request still running → 409
- outside the caller's scope, or no such record            → 404 (never 403: existence is not revealed)
- visible, but the caller may not change it                → 403
  (both decided by `dangjian.access.guards`, whose exceptions carry the message and the field)
- a paging cursor that is not one we gave out               → 422 on `after` (`core.cursors.BadCursor`)
- not logged in / bad token                               → 401
- a write that collides with another (unique ID number)   → 409
- an update whose `version` is no longer the record's      → 409 (someone saved it since; the
  message names who, when and which fields: `core.updates.Conflict`, worded by `audit.services.stale`)
Nothing the caller sends should produce a 500.
"""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from dangjian.access.guards import NotVisible, NotYours
from dangjian.api.auth import UNAUTHENTICATED
from dangjian.core.api import ApiError
from dangjian.core.cursors import BadCursor
from dangjian.core.updates import Conflict

NOT_FOUND = "未找到该记录，或它不在您的权限范围内。"
FORBIDDEN = "您无权进行此操作。"
NOT_JSON = "请求体须为 JSON（Content-Type: application/json）。"
TOO_LARGE = "请求体过大（不能超过 {mb} MB），未处理。"


class UnsupportedMediaType(Exception):
    pass


class JsonOnlyParser(Parser):
    """A body is read as JSON only when it says it is JSON (`application/json` or `…+json`): a
    form or plain text sent to a JSON operation answers 415, not a parse error or a guess."""

    def parse_body(self, request):
        media_type = (request.content_type or "").lower()
        if media_type != "application/json" and not (media_type.startswith("application/")
                                                     and media_type.endswith("+json")):
            raise UnsupportedMediaType
        return super().parse_body(request)


def too_large_message() -> str:
    return TOO_LARGE.format(mb=f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024:g}")


def _json(api, request, status: int, detail: str, errors: dict | None = None):
    return api.create_response(request, {"detail": detail, "errors": errors or {}}, status=status)


def service_errors(exc: DjangoValidationError) -> tuple[str, dict[str, str]]:
    """(detail, {field: message}) from a service's ValidationError."""
    if hasattr(exc, "error_dict"):
        fields = {name: "".join(messages) for name, messages in exc.message_dict.items()}
        general = fields.pop(NON_FIELD_ERRORS, "")
        return general + "".join(fields.values()), fields
    return "".join(exc.messages), {}


def _pydantic_message(error: dict) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return "此项必填。"
    if kind.startswith(("date", "datetime")):
        return "日期格式应为 YYYY-MM-DD，且须是实际存在的日期。"
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}。"
    if kind == "less_than_equal":
        return f"不能大于 {ctx.get('le')}。"
    if kind.startswith("int"):
        return "应为整数。"
    if kind.startswith("bool"):
        return "应为 true 或 false。"
    if kind == "string_too_long":
        return f"不能超过 {ctx.get('max_length')} 个字符。"
    if kind == "string_pattern_mismatch":
        return "含有不允许的字符。"
    if kind.startswith("string"):
        return "应为文本。"
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace("' or '", "'、'").replace("', '", "'、'")
        return f"不在可选范围内，可选值为：{expected}。"
    if kind == "extra_forbidden":
        return "不支持该字段。"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "应为 JSON 对象。"
    if kind == "value_error":
        return str(ctx.get("error", "格式不正确。"))
    return "格式不正确。"


def _field_name(loc) -> str:
    """('body', 'payload', 'joined_on') → 'joined_on'; ('query', 'limit') → 'limit'."""
    parts = [str(p) for p in loc]
    rest = parts[2:] if parts[:1] == ["body"] else parts[1:]
    return ".".join(rest) or "body"


# Fields a client may try to PATCH that change only through their own workflow.
_NOT_HERE = {
    "organization": "所在党组织不能在此修改，请用 POST /api/members/{id}/transfer 办理组织关系转接。",
    "status": "党员状态不能在此修改（转出、去世、出党另行办理）。",
}


def schema_errors(errors: list[dict]) -> tuple[str, dict[str, str]]:
    fields: dict[str, str] = {}
    for error in errors:
        name = _field_name(error.get("loc", ()))
        message = _pydantic_message(error)
        if error.get("type") == "extra_forbidden" and name in _NOT_HERE:
            message = _NOT_HERE[name]
        fields.setdefault(name, message)
    return "提交的数据有误：" + "；".join(f"{k}：{v.rstrip('。')}" for k, v in fields.items()) + "。", fields


_HTTP_MESSAGES = {
    "CSRF check Failed": "CSRF 校验失败，请刷新页面后重试。",
    "Cannot parse request body": "请求体不是有效的 JSON。",
}


def install(api) -> None:
    """Register the handlers above on `api`."""

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return _json(api, request, exc.status, exc.detail, exc.errors)

    @api.exception_handler(DjangoValidationError)
    def service_error(request, exc: DjangoValidationError):
        return _json(api, request, 422, *service_errors(exc))

    @api.exception_handler(Conflict)
    def stale_version(request, exc: Conflict):
        # Optimistic locking: nothing was written; the client re-reads, checks, and sends again.
        detail = "".join(exc.messages)
        return _json(api, request, 409, detail, {"version": detail})

    @api.exception_handler(NinjaValidationError)
    def schema_error(request, exc: NinjaValidationError):
        return _json(api, request, 422, *schema_errors(exc.errors))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        message = exc.message if isinstance(exc, NotVisible) and exc.message else NOT_FOUND
        field = exc.field if isinstance(exc, NotVisible) else None
        return _json(api, request, 404, message, {field: message} if field else None)

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        message = exc.message if isinstance(exc, NotYours) and exc.message else FORBIDDEN
        field = exc.field if isinstance(exc, NotYours) else None
        return _json(api, request, 403, message, {field: message} if field else None)

    @api.exception_handler(BadCursor)
    def bad_cursor(request, exc: BadCursor):
        return _json(api, request, 422, exc.message, {"after": exc.message})

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc: AuthenticationError):
        # The message our own authenticators chose (e.g. a token whose user must change their
        # password first); ninja's default message is English, so anything else reads as ours.
        detail = exc.message if exc.message and exc.message != "Unauthorized" else UNAUTHENTICATED
        response = _json(api, request, 401, detail)
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(RequestDataTooBig)
    def too_large(request, exc):
        # Django raises it from `request.body` when CONTENT_LENGTH is over the limit, before reading.
        return _json(api, request, 413, too_large_message())

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        if isinstance(exc.__cause__, UnsupportedMediaType):  # ninja wraps every parser error in a 400
            return _json(api, request, 415, NOT_JSON)
        message = str(exc)
        for english, chinese in _HTTP_MESSAGES.items():
            if message.startswith(english):
                message = chinese
                break
        return _json(api, request, exc.status_code, message)

    @api.exception_handler(IntegrityError)
    def conflict(request, exc):
        # A unique constraint lost a race the service's own check could not see (two requests at once).
        return _json(api, request, 409, "数据与已有记录冲突（可能刚被他人修改），请刷新后重试。")

    @api.exception_handler(DataError)
    def out_of_range(request, exc):
        return _json(api, request, 422, "数据超出允许的范围或格式。")
