"""Request and response shapes. Field names are the GLOSSARY's English names; the choices are the
models' own values, so the OpenAPI schema lists them.

Strings are bounded by the columns' lengths (PostgreSQL refuses longer values with an error, not a
message) and may not contain NUL (PostgreSQL refuses that too): both answer 422 here instead.
"""

import datetime as dt
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints

from dangjian.organizations.models import Member, Organization, Unit

MAX_ID = 2**63 - 1  # the largest BigAutoField value: larger ids would overflow the database driver
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
MAX_PAGE = 200


def text(max_length: int):
    return Annotated[str, StringConstraints(max_length=max_length, pattern=r"^[^\x00]*$")]


OrganizationKind = Literal[tuple(Organization.Kind.values)]
UnitKind = Literal[tuple(Unit.Kind.values)]
Gender = Literal[tuple(Member.Gender.values)]
Category = Literal[tuple(Member.Category.values)]
Status = Literal[tuple(Member.Status.values)]
Education = Literal[("", *Member.Education.values)]


class ErrorOut(Schema):
    detail: str = Field(description="给人看的中文说明")
    errors: dict[str, str] = Field(default_factory=dict, description="出错的字段 → 中文说明")


# ---------------------------------------------------------------- organisations and units

class MemberCounts(Schema):
    full: int = Field(description="在册正式党员（含下级党组织）")
    probationary: int = Field(description="在册预备党员（含下级党组织）")
    total: int


class OrganizationOut(Schema):
    id: int
    code: str
    name: str
    kind: OrganizationKind
    parent: int | None = Field(description="上级党组织 id；顶层为 null")
    depth: int
    founded_on: dt.date
    dissolved_on: dt.date | None
    term_start: dt.date | None
    term_end: dt.date | None
    secretary: str | None = Field(description="现任书记姓名；未配备为 null")
    members: MemberCounts


class OrganizationPage(Schema):
    count: int
    items: list[OrganizationOut]


class OrganizationFilters(Schema):
    kind: OrganizationKind | None = None
    parent: text(32) | None = Field(None, description="上级党组织编码：只列其直接下级")
    include_dissolved: bool = Field(False, description="是否包含已撤销的党组织")
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=10_000_000)


class UnitOut(Schema):
    id: int
    code: str
    name: str
    kind: UnitKind
    parent: int | None
    depth: int
    organization: int | None = Field(description="服务该单位的党组织 id")
    organization_name: str | None


class UnitPage(Schema):
    count: int
    items: list[UnitOut]


class UnitFilters(Schema):
    kind: UnitKind | None = None
    parent: text(32) | None = Field(None, description="上级单位编码：只列其直接下级")
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=10_000_000)


# ---------------------------------------------------------------- members

class MemberOut(Schema):
    id: int
    name: str
    gender: Gender
    ethnicity: str
    birth_year: int
    birth_date: dt.date | None = Field(
        description="只对本人给出：掩码后的身份证号保留前6位和后4位，再加上出生日期就等于完整号码")
    id_number: str = Field(description="掩码（本人除外）；查看完整号码须在页面上填写事由并留痕")
    joined_on: dt.date
    full_on: dt.date | None
    category: Category
    education: Education
    post: str
    organization: int
    organization_name: str
    unit: int | None
    unit_name: str | None
    phone: str = Field(description="有“查看完整电话”权限时为完整号码，否则为掩码")
    status: Status
    updated_at: dt.datetime


class MemberPage(Schema):
    items: list[MemberOut]
    next: str | None = Field(description="下一页的游标（作为 after 传回）；没有下一页为 null")


class MemberFilters(Schema):
    organization: Id | None = Field(None, description="党组织 id：含其下级党组织的党员")
    category: Category | None = None
    status: Literal[(*Member.Status.values, "all")] = Field("active", description="默认只列在册党员")
    q: text(50) = Field("", description="按姓名、职务或工作单位名称查找")
    after: text(200) | None = Field(None, description="上一页返回的 next 游标")
    limit: int = Field(50, ge=1, le=MAX_PAGE)


class MemberCreateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    organization: Id
    name: text(50)
    gender: Gender
    ethnicity: text(20) = "汉族"
    birth_date: dt.date
    id_number: text(30)
    joined_on: dt.date
    full_on: dt.date | None = None
    category: Category
    education: Education = ""
    post: text(100) = ""
    unit: Id | None = None
    phone: text(20) = ""
    since: dt.date | None = Field(None, description="转入本党组织的日期；默认为入党日期")


class MemberUpdateIn(Schema):
    """Only the fields sent are changed. The organisation changes by transfer, never here."""

    model_config = ConfigDict(extra="forbid")

    name: text(50) | None = None
    gender: Gender | None = None
    ethnicity: text(20) | None = None
    birth_date: dt.date | None = None
    id_number: text(30) | None = None
    joined_on: dt.date | None = None
    full_on: dt.date | None = None
    category: Category | None = None
    education: Education | None = None
    post: text(100) | None = None
    unit: Id | None = None
    phone: text(20) | None = None


class TransferIn(Schema):
    model_config = ConfigDict(extra="forbid")

    to: Id = Field(description="转入党组织 id")
    on: dt.date = Field(description="转接日期")
    note: text(200) = ""
