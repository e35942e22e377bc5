"""What a reader sees of a member's numbers: one decision (`organizations.selectors.member_numbers`)
for the member pages and the API. The ID number is masked for everyone, the member included (the full
number only through the page's audited reveal); the birth date goes to the member themself only; the
phone is full with 查看完整电话."""

import re

import pytest
from django.urls import reverse

from dangjian.core.identity import mask_id_number, mask_phone
from dangjian.organizations.selectors import ShownNumbers, member_numbers
from tests.pages import member_rows

# persona → (birth date shown, phone in full) for member_a (张三, of branch A's cell)
READERS = {
    "party_office": (False, True),
    "branch_secretary": (False, True),
    "leader": (False, False),
    "discipline": (False, False),
    "member": (True, True),  # 张三 himself
}


def _expected(member, birth: bool, phone: bool) -> ShownNumbers:
    return ShownNumbers(id_number=mask_id_number(member.id_number), birth_date=member.birth_date if birth else None,
                        phone=member.phone if phone else mask_phone(member.phone))


@pytest.mark.parametrize(("persona", "shown"), READERS.items())
def test_member_numbers_by_reader(bureau, persona, shown):
    assert member_numbers(bureau.users[persona], bureau.member_a) == _expected(bureau.member_a, *shown)


@pytest.mark.parametrize(("persona", "shown"), READERS.items())
def test_the_api_shows_what_the_page_shows(bureau, client_for, persona, shown):
    member, client = bureau.member_a, client_for(persona)
    expected = _expected(member, *shown)
    body = client.get(f"/api/members/{member.pk}").json()
    assert (body["id_number"], body["phone"]) == (expected.id_number, expected.phone)
    assert body["birth_date"] == (f"{member.birth_date:%Y-%m-%d}" if expected.birth_date else None)
    page = client.get(reverse("organizations:member_detail", args=[member.pk]))
    assert page.context["numbers"] == expected
    html = page.content.decode()
    assert expected.id_number in html and expected.phone in html
    assert (f"{member.birth_date:%Y-%m-%d}" in html) == shown[0]


def test_a_member_sees_their_own_number_only_through_the_audited_reveal(bureau, client_for):
    client, member = client_for("member"), bureau.member_a
    page = client.get(reverse("organizations:member_detail", args=[member.pk])).content.decode()
    assert member.id_number not in page and mask_id_number(member.id_number) in page
    revealed = client.post(reverse("organizations:member_reveal", args=[member.pk]), {"reason": "核对本人信息"})
    assert member.id_number in revealed.content.decode()


def test_member_list_rows_use_the_same_decision(bureau, client_for):
    client = client_for("leader")
    rows = member_rows(client.get(reverse("organizations:members")))
    items = {m["id"]: m for m in client.get("/api/members").json()["items"]}
    assert rows.keys() == items.keys()
    for pk, row in rows.items():
        assert f'<code class="text-nowrap">{items[pk]["id_number"]}</code>' in row
        assert f'<td class="text-nowrap">{items[pk]["phone"] or "—"}</td>' in row
        assert items[pk]["birth_date"] is None and re.search(r'<td class="hide-sm">\d{4}年</td>', row)  # the year only
