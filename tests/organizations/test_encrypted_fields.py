"""Members' ID numbers and phones at rest: tokens in every table a dump would show, the search hash
for uniqueness and lookups, a loud failure under a wrong key, rotation by `reencrypt_members`, the
data migration both ways, and the full birth date only through the audited reveal."""

import datetime as dt
import io
import re

import pytest
from django.core.exceptions import FieldError, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor
from dangjian.core import crypto
from dangjian.core.identity import id_check_char
from dangjian.organizations import services
from dangjian.organizations.models import Member
from dangjian.organizations.workbook import import_roster
from tests.factories import MemberFactory, valid_id_number
from tests.organizations.test_workbook import ROSTER, person, xlsx

BY = Actor.system("test")
# A whole ID number with a valid check character (an HMAC's hex or a zero-filled MAC is not one).
FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def _raw(member: Member) -> tuple[str, str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone, id_number_hash FROM organizations_member WHERE id = %s", [member.pk])
        return cursor.fetchone()


def _dump() -> str:
    """Every text a dump of every table would hold, as one string."""
    cells = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            cells += [str(value) for row in cursor.fetchall() for value in row if value is not None]
    return "\n".join(cells)


def test_the_database_holds_tokens_and_no_personal_number_anywhere(bureau, client_for):
    member = bureau.member_a
    member.phone = "0571-87654321"
    member.save()
    # A reveal and an update leave their audit entries too; those are masked.
    client_for("party_office").post(reverse("organizations:member_reveal", args=[member.pk]), {"reason": "核对"})
    services.member_update(by=BY, member=member, data={"phone": "13912345678"})
    id_number, phone, digest = _raw(member)
    assert id_number.startswith("s4g1:") and phone.startswith("s4g1:")
    assert len(digest) == 64
    dump = _dump()
    people = Member.objects.all()
    assert people.count() == 8
    for person_ in people:
        assert person_.id_number not in dump and person_.id_number[6:14] + person_.id_number[14:] not in dump
        assert person_.phone not in dump
    assert "13912345678" not in dump and "87654321" not in dump
    assert not [n for n in FULL_ID.findall(dump) if id_check_char(n[:17]) == n[17].upper()]


def test_reads_give_the_plaintext_and_comparing_tokens_is_refused(bureau):
    member = Member.objects.get(pk=bureau.member_a.pk)
    assert member.id_number == bureau.member_a.id_number and len(member.id_number) == 18
    assert list(Member.objects.filter(pk=member.pk).values_list("id_number", flat=True)) == [member.id_number]
    with pytest.raises(FieldError, match="stored encrypted"):
        Member.objects.filter(id_number=member.id_number).exists()
    with pytest.raises(FieldError, match="stored encrypted"):
        Member.objects.filter(phone__contains="138").exists()
    assert Member.objects.with_id_numbers(member.id_number.lower()).get() == member


def test_a_blank_phone_stays_blank(bureau):
    member = MemberFactory(organization=bureau.branch_a, phone="")
    assert _raw(member)[1] == ""
    assert Member.objects.get(pk=member.pk).phone == ""


def test_the_same_id_number_imported_twice_collides_on_the_hash(bureau):
    row = person(21, org="BA", unit="")
    assert import_roster(xlsx({"花名册": [ROSTER, row]}), by=BY, user=None).ok
    again = [f"{row[0]}（再次）", *row[1:4], row[4].lower(), *row[5:]]
    before = (Member.objects.count(), AuditEntry.objects.count())

    result = import_roster(xlsx({"花名册": [ROSTER, again]}), by=BY, user=None)

    assert [(e.row, e.column) for e in result.errors] == [(2, "身份证号")]
    assert result.errors[0].message == "该身份证号已登记在另一名党员名下。"
    assert (Member.objects.count(), AuditEntry.objects.count()) == before


def test_the_form_service_refuses_a_registered_number_in_any_spelling(bureau):
    member = MemberFactory(organization=bureau.branch_a, id_number=valid_id_number(dt.date(1980, 1, 2), seq=7))
    data = dict(name="王五", gender="male", birth_date=dt.date(1980, 1, 2), id_number=f" {member.id_number.lower()} ",
                joined_on=dt.date(2005, 7, 1), category="probationary", organization=bureau.branch_a)
    with pytest.raises(ValidationError) as caught:
        services.member_create(by=BY, data=data)
    assert caught.value.message_dict["id_number"] == ["该身份证号已登记在另一名党员名下。"]


def test_the_database_keeps_the_numbers_unique_through_the_hash(bureau):
    clone = Member(**{f.attname: getattr(bureau.member_b, f.attname) for f in Member._meta.concrete_fields
                      if not f.primary_key})
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.bulk_create([clone])


def test_changing_an_id_number_moves_its_hash(bureau):
    member, old = bureau.member_b, bureau.member_b.id_number
    new = valid_id_number(member.birth_date, region="440305", seq=55)
    services.member_update(by=BY, member=member, data={"id_number": new})
    assert Member.objects.with_id_numbers(new).get() == member
    assert not Member.objects.with_id_numbers(old).exists()
    # The old number is free again; the new one is taken.
    clash = dict(name="王五", gender="male", birth_date=member.birth_date, id_number=new, joined_on=member.joined_on,
                 category="probationary", organization=bureau.branch_a)
    with pytest.raises(ValidationError, match="已登记"):
        services.member_create(by=BY, data=clash)


def test_an_appointment_sheet_finds_a_registered_member_by_id_number(bureau):
    from dangjian.organizations.workbook import import_workbook

    member = bureau.member_b
    sheet = [["党组织编码", "身份证号", "职务", "任职日期"], ["BB", member.id_number.lower(), "委员", dt.date(2025, 1, 1)],
             ["BB", member.id_number, "书记", dt.date(2025, 1, 1)]]
    result = import_workbook(xlsx({"任职": sheet}), by=BY, user=None)
    # Row 2 is registered; row 3 is the post 李四 already holds (open posts are matched by hash too).
    assert [(e.row, e.column) for e in result.errors] == [(3, "身份证号")]
    assert "已是该党组织的书记" in result.errors[0].message


def test_a_wrong_key_fails_loudly_on_read(bureau, settings):
    settings.FIELD_ENCRYPTION_KEYS = "dev:" + "77" * 16
    with pytest.raises(crypto.DecryptionError):
        Member.objects.get(pk=bureau.member_a.pk)


def test_rotation_reads_old_rows_and_reencrypt_moves_them_to_the_new_key(bureau, settings):
    old = settings.FIELD_ENCRYPTION_KEYS
    numbers = dict(Member.objects.values_list("pk", "id_number"))
    settings.FIELD_ENCRYPTION_KEYS = f"k2027:{'88' * 16},{old}"
    settings.FIELD_SEARCH_KEY = "99" * 16
    assert dict(Member.objects.values_list("pk", "id_number")) == numbers  # old tokens still read

    out = io.StringIO()
    call_command("reencrypt_members", stdout=out)

    assert all(_raw(m)[0].startswith("s4g1:k2027:") for m in Member.objects.all())
    settings.FIELD_ENCRYPTION_KEYS = f"k2027:{'88' * 16}"  # the old key can now be retired
    assert dict(Member.objects.values_list("pk", "id_number")) == numbers
    assert Member.objects.with_id_numbers(bureau.member_a.id_number).get() == bureau.member_a  # new search key
    assert "8 名党员" in out.getvalue()
    entry = AuditEntry.objects.get(action="member.reencrypt")
    assert entry.note.startswith("8 名党员")


# ---------------------------------------------------------------- the birth date

def test_the_audited_reveal_shows_the_full_birth_date_to_whoever_may_unmask(bureau, client_for):
    member, client = bureau.member_b, client_for("party_office")
    page = client.get(reverse("organizations:member_detail", args=[member.pk])).content.decode()
    assert f"{member.birth_date:%Y-%m-%d}" not in page and f"{member.birth_date.year}年" in page

    revealed = client.post(reverse("organizations:member_reveal", args=[member.pk]), {"reason": "核对档案"})

    html = revealed.content.decode()
    assert member.id_number in html
    assert f'<span id="birth-date" hx-swap-oob="innerHTML">{member.birth_date:%Y-%m-%d}</span>' in html
    assert AuditEntry.objects.filter(action="member.reveal_id_number", object_id=str(member.pk)).count() == 1


def test_a_reader_without_unmask_sees_the_year_and_cannot_reveal(bureau, client_for):
    member, client = bureau.member_b, client_for("leader")
    page = client.get(reverse("organizations:member_detail", args=[member.pk])).content.decode()
    assert f"{member.birth_date:%Y-%m-%d}" not in page and f"{member.birth_date.year}年" in page
    response = client.post(reverse("organizations:member_reveal", args=[member.pk]), {"reason": "核对"})
    assert response.status_code == 404
    assert f"{member.birth_date:%Y-%m-%d}" not in response.content.decode()


# ---------------------------------------------------------------- the data migration

@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_rows_and_reverses():
    before, after = [("organizations", "0003_pending_import")], [("organizations", "0004_member_encrypted_numbers")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        Organization, OldMember = apps.get_model("organizations", "Organization"), apps.get_model(
            "organizations", "Member")
        org = Organization.objects.create(path="0009", depth=1, numchild=0, code="MIG", name="迁移支部",
                                          kind="branch", founded_on=dt.date(2020, 1, 1))
        number = valid_id_number(dt.date(1980, 5, 6))
        OldMember.objects.create(name="旧数据", gender="male", birth_date=dt.date(1980, 5, 6), id_number=number,
                                 joined_on=dt.date(2005, 7, 1), category="full", organization=org, phone="13700001111")
        OldMember.objects.create(name="无电话", gender="male", birth_date=dt.date(1980, 5, 6),
                                 id_number=valid_id_number(dt.date(1980, 5, 6)), joined_on=dt.date(2005, 7, 1),
                                 category="full", organization=org, phone="")

        executor = MigrationExecutor(connection)
        executor.migrate(after)
        # Only the columns 0004 has: the current model has later ones (e.g. version, 0008).
        member = Member.objects.with_id_numbers(number).only("id_number", "phone").get()
        assert (member.id_number, member.phone) == (number, "13700001111")
        raw = _raw(member)
        assert raw[0].startswith("s4g1:") and raw[1].startswith("s4g1:") and number not in raw[0]

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id_number, phone FROM organizations_member ORDER BY id")
            assert cursor.fetchall()[0] == (number, "13700001111")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
