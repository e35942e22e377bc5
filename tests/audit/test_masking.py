"""No personal numbers in the trail: an ID number or phone anywhere in an entry's text (a failed
log-in typed with an ID number, a note, an object's name, a before/after value) is masked before the
entry is written, with the roster's own maskers (core.identity)."""

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from dangjian.audit.models import AuditEntry
from dangjian.audit.services import Actor, AuditItem, audit_record, audit_record_many, audit_verify_chain
from dangjian.organizations.models import Organization
from tests.factories import make_org

ID = "11010519491231002X"
MOBILE = "13900001111"
LINE = "0571-87654321"
pytestmark = pytest.mark.django_db


def _all_text(entry) -> str:
    return str(model_to_dict(entry))


@pytest.mark.parametrize(("typed", "stored"), [
    (ID, "1101************2X"), (ID.lower(), "1101************2X"), (MOBILE, "139****1111"),
])
def test_failed_login_typed_with_an_id_number_or_phone_is_stored_masked(client, typed, stored):
    client.post(reverse("access:login"), {"username": typed, "password": "wrong"})
    entry = AuditEntry.objects.get(action="auth.login_failed")
    assert entry.actor_name == stored
    assert typed not in _all_text(entry) and typed.upper() not in _all_text(entry)


def test_personal_numbers_in_every_text_field_are_masked():
    org = make_org(None, Organization.Kind.LEADING_GROUP, f"党组（联系 {MOBILE}）")
    by = Actor(user=None, name=f"{ID}", roles=("system",))
    entry = audit_record(
        by=by, action="test.write", obj=org, note=f"电话{LINE}，身份证{ID}",
        before={"contact": MOBILE, "list": [f"证件 {ID}"], "nested": {"x": LINE}},
        after={"text": f"新号码:{MOBILE}。", "count": 3},
    )
    entry.refresh_from_db()
    text = _all_text(entry)
    for number in (ID, MOBILE, LINE):
        assert number not in text
    assert entry.actor_name == "1101************2X"
    assert entry.object_repr == "党组（联系 139****1111）"
    assert entry.note == "电话0571****21，身份证1101************2X"
    assert entry.before == {"contact": "139****1111", "list": ["证件 1101************2X"], "nested": {"x": "0571****21"}}
    assert entry.after == {"text": "新号码:139****1111。", "count": 3}
    assert audit_verify_chain() is None  # the MAC covers what was stored


def test_numbers_that_are_not_personal_are_kept():
    kept = ["2026-12-02T10:10:10+08:00", "1234567890", "12345678901234567890", "A13900001111",
            "1390000111122", "seq 42", "1101************2X", "合同号 9876543210"]
    [entry] = audit_record_many(by=Actor.system("test"), items=[AuditItem("test.write", after={"k": kept})])
    assert entry.after == {"k": kept}
