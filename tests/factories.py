"""Test data builders. Trees are built through treebeard's add_root/add_child, so builders are
functions rather than factory_boy factories for the tree nodes; members use factory_boy."""

import datetime as dt
import itertools

import factory

from dangjian.access.models import RoleAssignment, User
from dangjian.core.identity import id_check_char
from dangjian.organizations.collation import name_key as pinyin_key
from dangjian.organizations.models import Member, Membership, Organization, Unit

_codes = itertools.count(1)
_ids = itertools.count(1)


def valid_id_number(birth: dt.date = dt.date(1985, 6, 15), *, region: str = "330102", seq: int | None = None,
                    male: bool = True) -> str:
    """A checksum-valid ID number. `seq` makes it unique; parity of the 17th digit gives the gender."""
    seq = next(_ids) if seq is None else seq
    body = f"{region}{birth:%Y%m%d}{seq % 100:02d}{(seq // 100 * 2 + (1 if male else 0)) % 10}"
    return body + id_check_char(body)


def make_org(parent: Organization | None, kind: str, name: str | None = None, *, code: str | None = None,
             founded_on: dt.date = dt.date(2018, 1, 1), **extra) -> Organization:
    code = code or f"T{next(_codes):04d}"
    fields = dict(code=code, name=name or f"{kind}-{code}", kind=kind, founded_on=founded_on, **extra)
    return Organization.objects.add_child(parent, fields) if parent else Organization.objects.add_root(fields)


def make_unit(parent: Unit | None, kind: str = Unit.Kind.DEPARTMENT, name: str | None = None, *,
              organization: Organization | None = None) -> Unit:
    code = f"U{next(_codes):04d}"
    fields = dict(code=code, name=name or f"单位{code}", kind=kind, organization=organization)
    return Unit.objects.add_child(parent, fields) if parent else Unit.objects.add_root(fields)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"党员{n:04d}")
    name_key = factory.LazyAttribute(lambda m: pinyin_key(m.name))  # as the services set it
    gender = Member.Gender.MALE
    birth_date = dt.date(1985, 6, 15)
    id_number = factory.LazyAttribute(lambda m: valid_id_number(m.birth_date, male=m.gender == Member.Gender.MALE))
    joined_on = dt.date(2010, 7, 1)
    full_on = dt.date(2011, 7, 1)
    category = Member.Category.FULL
    education = Member.Education.BACHELOR
    post = "科员"
    phone = factory.Sequence(lambda n: f"138{n:08d}")

    @factory.post_generation
    def stay(obj, create, extracted, **kwargs):
        if create:
            Membership.objects.create(member=obj, organization=obj.organization, start=extracted or obj.joined_on)


def make_user(username: str, role: str | None = None, node=None, *, member: Member | None = None,
              include_descendants: bool = True, password: str = "Test@12345") -> User:
    user = User.objects.create_user(username=username, password=password, full_name=username, member=member)
    if role:
        grant(user, role, node, include_descendants=include_descendants)
    return user


def grant(user: User, role: str, node=None, *, include_descendants: bool = True) -> RoleAssignment:
    kwargs = {"organization": node} if isinstance(node, Organization) else {"unit": node}
    return RoleAssignment.objects.create(user=user, role=role, include_descendants=include_descendants, **kwargs)


def bulk_members(organization: Organization, n: int, *, start: int = 10_000) -> list[Member]:
    """n members with stays, in two bulk inserts: for query-count tests at thousands of rows."""
    members = Member.objects.bulk_create([
        Member(name=f"批量{start + i:06d}", name_key=pinyin_key(f"批量{start + i:06d}"), gender=Member.Gender.MALE, birth_date=dt.date(1980, 1, 1),
               id_number=_bulk_id(start + i), joined_on=dt.date(2005, 7, 1), full_on=dt.date(2006, 7, 1),
               category=Member.Category.FULL, organization=organization, phone=f"139{start + i:08d}")
        for i in range(n)
    ], batch_size=500)
    Membership.objects.bulk_create([Membership(member=m, organization=organization, start=m.joined_on)
                                    for m in members], batch_size=500)
    return members


def _bulk_id(seq: int) -> str:
    body = f"440300{dt.date(1980, 1, 1):%Y%m%d}{seq % 1000:03d}"
    # vary the region code by thousands so that every number is unique
    body = f"{440300 + seq // 1000:06d}" + body[6:]
    return body + id_check_char(body)


def bulk_branches(parent: Organization, n: int, *, prefix: str = "BK", founded_on: dt.date = dt.date(2018, 1, 1)):
    """n branches under `parent` in one insert, with materialised paths computed as treebeard does."""
    start = parent.numchild
    branches = [
        Organization(path=Organization._get_path(parent.path, parent.depth + 1, start + i + 1), depth=parent.depth + 1,
                     numchild=0, code=f"{prefix}{i:05d}", name=f"批量支部{i:05d}", kind=Organization.Kind.BRANCH,
                     founded_on=founded_on)
        for i in range(n)
    ]
    Organization.objects.bulk_create(branches, batch_size=500)
    Organization.objects.filter(pk=parent.pk).update(numchild=start + n)
    parent.refresh_from_db()
    return list(Organization.objects.filter(code__startswith=prefix).order_by("path"))


def subtree(org: Organization):
    """An organisation and everything under it, unscoped: what a metric counts for an operator."""
    return Organization.objects.filter(path__startswith=org.path)
