"""What every area's API uses, below the areas (the `api` app, which mounts their routers, sits
above them): ids, page sizes, bounded text, the error body and `ApiError`. The areas' own request
and response shapes live in their `api.py` (field names are the GLOSSARY's English
names; choices are the models' own values, so the OpenAPI schema lists them).

Strings are bounded by the columns' lengths (PostgreSQL refuses longer values with an error, not a
message) and may not contain NUL (PostgreSQL refuses that too): both answer 422 instead.
"""

from typing import Annotated

from ninja import Schema
from pydantic import Field, StringConstraints

MAX_ID = 2**63 - 1  # the largest BigAutoField value: larger ids would overflow the database driver
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
MAX_PAGE = 200
# Optimistic locking (core.updates): the version a client read, sent back with its update.
VERSION_IN = ("记录版本：读取该记录时得到的 version，原样传回。若他人在此之后已修改该记录，不作任何修改，"
              "答 409，说明谁于何时改了哪些字段；请重新读取、核对后再提交。不传则不作此检查。")
VERSION_OUT = "记录版本：每次修改加 1。修改时作为 version 传回，以免覆盖他人在此期间的修改。"


class Versioned:
    """The `version` field of a record's shapes: `In` on an update (optional), `Out` on a read."""

    In = Annotated[Annotated[int, Field(ge=1, le=2**31 - 1)] | None, Field(description=VERSION_IN)]
    Out = Annotated[int, Field(description=VERSION_OUT)]


def text(max_length: int):
    return Annotated[str, StringConstraints(max_length=max_length, pattern=r"^[^\x00]*$")]


class ErrorOut(Schema):
    detail: str = Field(description="给人看的中文说明")
    errors: dict[str, str] = Field(default_factory=dict, description="出错的字段 → 中文说明")


# What each kind of operation can answer besides its success, all with the ErrorOut body, so the
# schema lists every code a client may see (a 401 without credentials, a 403 while the account
# must change its password or for a failed CSRF check, a 422 for a parameter out of its range).
READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
DETAIL_ERRORS = {**READ_ERRORS, 404: ErrorOut}
# + malformed JSON 400, unknown or out-of-scope record 404, a collision (or an Idempotency-Key still
# in use, or a `version` someone else's save has passed) 409, body too large 413, not sent as JSON 415
WRITE_ERRORS = {**DETAIL_ERRORS, 400: ErrorOut, 409: ErrorOut, 413: ErrorOut, 415: ErrorOut}


class ApiError(Exception):
    """An answer other than 2xx with a Chinese message and, optionally, the body fields at fault
    (turned into its JSON body by `dangjian.api.errors`)."""

    def __init__(self, status: int, detail: str, errors: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors or {}
