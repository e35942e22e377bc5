"""`Idempotency-Key` on every POST of the API (optional; without it nothing changes).

A client that sends a POST and loses the answer (a timeout, a dropped connection) cannot know
whether the record was made. Sent again with the same `Idempotency-Key`, the request is not run a
second time: the first answer is given back as it was (status and body), with the header
`Idempotent-Replayed: true`. Rules:

- the key belongs to the user who sent it (another user's same key is another key);
- the same key with another request (method, path or body differ) → 422, nothing done;
- the same key while the first request is still running → 409 (try again shortly);
- only a 2xx answer is kept: a refused request changed nothing and may be retried as it is;
- keys are kept for `IDEMPOTENCY_TTL_HOURS` (24 h); older ones are deleted on the next keyed POST
  and by `manage.py purge_idempotency_keys` (a nightly job).

Two ninja decorators, installed on the whole API by `dangjian.api.main`: `reserve_or_replay` runs
around the view (after authentication and body parsing, so the user and the body are known) and
either gives back the kept answer or reserves the key; `keep_answer` runs around the whole
operation and keeps the answer (or frees the key) once ninja has made the response.

A keyed POST is one transaction: the reservation, the record the view saves and the kept answer
commit together or not at all. A worker killed mid-request (the fault drill, bench/drill_fault.py)
therefore leaves neither a record nor a key, and the retry runs afresh; when the reservation was a
transaction of its own, such a key stayed reserved with no answer for its whole lifetime (409 to
every retry) although the record had sometimes been saved. A concurrent retry with the same key
waits on the key's unique index until the first commits, then gets its answer back.
"""

import datetime as dt
import hashlib
import re
from functools import wraps

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from dangjian.api.models import IdempotencyKey
from dangjian.core.api import ApiError

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # visible ASCII: a UUID, a ULID, a hash ...
_KEY = re.compile(KEY_PATTERN)
BAD_KEY = "Idempotency-Key 应为 1 到 255 个可见 ASCII 字符（建议用 UUID）。"
OTHER_REQUEST = "该 Idempotency-Key 已用于内容不同的另一个请求，未执行；新的请求请使用新的键。"
STILL_RUNNING = "使用该 Idempotency-Key 的请求仍在处理中，请稍后再试。"
_ROW = "_idempotency_row"


def ttl() -> dt.timedelta:
    return dt.timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)


def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete the keys older than the TTL; returns how many."""
    cutoff = (now or timezone.now()) - ttl()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), request.body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _replay(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(row.body), status=row.status, content_type="application/json; charset=utf-8")
    response[REPLAYED] = "true"
    return response


def _reserve(request, key: str):
    """Reserve the key for this request (returns None), or the kept answer to give back."""
    fingerprint = _fingerprint(request)
    now = timezone.now()
    purge_expired(now)
    try:
        with transaction.atomic():
            request.__dict__[_ROW] = IdempotencyKey.objects.create(
                user=request.user, key=key, fingerprint=fingerprint, created_at=now)
            return None
    except IntegrityError:
        row = IdempotencyKey.objects.filter(user=request.user, key=key).first()
    if row is None:  # freed by a refused first request between the two queries
        raise ApiError(409, STILL_RUNNING)
    if row.fingerprint != fingerprint:
        raise ApiError(422, OTHER_REQUEST, {HEADER: OTHER_REQUEST})
    if row.status is None:
        raise ApiError(409, STILL_RUNNING)
    return _replay(row)


def reserve_or_replay(view_func):
    """Around the view function: after authentication and validation (ninja's "operation" mode)."""

    @wraps(view_func)
    def wrapper(request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return view_func(request, *args, **kwargs)
        if not _KEY.match(key):
            raise ApiError(422, BAD_KEY, {HEADER: BAD_KEY})
        kept = _reserve(request, key)
        return kept if kept is not None else view_func(request, *args, **kwargs)

    return wrapper


def keep_answer(run):
    """Around the whole operation, once the response is made (ninja's "view" mode)."""

    @wraps(run)
    def wrapper(request, *args, **kwargs):
        if request.method != "POST" or HEADER not in request.headers:
            return run(request, *args, **kwargs)
        with transaction.atomic():
            response = run(request, *args, **kwargs)
            row = request.__dict__.pop(_ROW, None)
            if row is not None:
                kept = IdempotencyKey.objects.filter(pk=row.pk)
                if 200 <= response.status_code < 300:
                    kept.update(status=response.status_code, body=response.content)
                else:
                    kept.delete()
        return response

    return wrapper


def describe(schema: dict) -> dict:
    """Add the optional header to every POST operation of an OpenAPI schema (ninja does not know
    of it, as it is read by the decorators above, not by the views)."""
    parameter = {
        "in": "header", "name": HEADER, "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
        "description": ("可选。客户端生成的唯一键（建议 UUID）。24 小时内同一账号以同一个键重发同一请求，"
                        "不再重复执行，原样返回第一次的成功响应（带 Idempotent-Replayed: true）；"
                        "同一个键用于内容不同的请求返回 422，第一次请求尚未完成时返回 409。"),
    }
    for operations in schema.get("paths", {}).values():
        post = operations.get("post")
        if post is not None:
            post.setdefault("parameters", []).append(parameter)
    return schema
