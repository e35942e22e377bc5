"""The permission matrix: every role × every page, and the cross-scope (IDOR) checks.

200 = the page opens; 404 = outside the role's permissions or scope (we never confirm that a
record exists to someone who may not see it); 302 = anonymous, sent to log in."""

import pytest
from django.test import Client
from django.urls import reverse

from dangjian.organizations.models import Member

PAGES = {
    "home": lambda b: reverse("home"),
    "tree": lambda b: reverse("organizations:tree"),
    "org_detail": lambda b: reverse("organizations:detail", args=[b.branch_a.pk]),
    "org_create": lambda b: reverse("organizations:create"),
    "org_restructure": lambda b: reverse("organizations:restructure", args=[b.branch_a.pk]),
    "org_renew_term": lambda b: reverse("organizations:renew_term", args=[b.branch_a.pk]),
    "org_appoint": lambda b: reverse("organizations:appoint", args=[b.branch_a.pk]),
    "units": lambda b: reverse("organizations:units"),
    "unit_create": lambda b: reverse("organizations:unit_create"),
    "members": lambda b: reverse("organizations:members"),
    "member_create": lambda b: reverse("organizations:member_create"),
    "member_export": lambda b: reverse("organizations:member_export"),
    "member_import": lambda b: reverse("organizations:member_import"),
    "member_detail": lambda b: reverse("organizations:member_detail", args=[b.member_a.pk]),
    "member_edit": lambda b: reverse("organizations:member_edit", args=[b.member_a.pk]),
    "member_transfer": lambda b: reverse("organizations:member_transfer", args=[b.member_a.pk]),
    "users": lambda b: reverse("access:users"),
    "roles": lambda b: reverse("access:roles"),
    "audit": lambda b: reverse("audit:search"),
    "metrics": lambda b: reverse("reports:metrics"),
    "metric_detail": lambda b: reverse("reports:metric_detail", args=["organizations.full_members"]),
}

_ = 404
# Columns follow PAGES' order.
MATRIX = {
    #                   home tree det  new  rest renew appt units unew mem  mnew exp  imp  mdet medit mtr  users roles audit metr mdet
    "party_office":      [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, _, _, _, 200, 200],
    "branch_secretary":  [200, 200, 200, _, _, _, _, 200, _, 200, 200, 200, _, 200, 200, 200, _, _, _, 200, 200],
    "sibling_secretary": [200, 200, _, _, _, _, _, 200, _, 200, 200, 200, _, _, _, _, _, _, _, 200, 200],
    "leader":            [200, 200, 200, _, _, _, _, 200, _, 200, _, _, _, 200, _, _, _, _, _, 200, 200],
    "inspection_office": [200, 200, 200, _, _, _, _, 200, _, _, _, _, _, _, _, _, _, _, _, 200, _],
    "unit_liaison":      [200, _, _, _, _, _, _, 200, _, _, _, _, _, _, _, _, _, _, _, _, _],
    "discipline":        [200, 200, 200, _, _, _, _, 200, _, 200, _, _, _, 200, _, _, _, _, _, _, _],
    "member":            [200, _, _, _, _, _, _, _, _, _, _, _, _, 200, _, _, _, _, _, _, _],
    "sys_admin":         [200, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, 200, _, _, _, _],
    "security_admin":    [200, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, 200, _, _, _],
    "audit_admin":       [200, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, 200, _, _],
    "no_role":           [200, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _],
}
CASES = [(persona, page, expected) for persona, row in MATRIX.items() for page, expected in zip(PAGES, row, strict=True)]


@pytest.mark.parametrize(("persona", "page", "expected"), CASES, ids=[f"{p}-{g}" for p, g, _ in CASES])
def test_permission_matrix(bureau, client_for, persona, page, expected):
    response = client_for(persona).get(PAGES[page](bureau))
    assert response.status_code == expected


@pytest.mark.parametrize("page", list(PAGES))
def test_anonymous_is_sent_to_log_in(bureau, page):
    response = Client().get(PAGES[page](bureau))
    assert response.status_code == 302
    assert response.url.startswith(reverse("access:login"))


def test_branch_secretary_cannot_see_sibling_branch_member(bureau, client_for):
    client = client_for("branch_secretary")
    sibling = bureau.member_b
    assert client.get(reverse("organizations:member_detail", args=[sibling.pk])).status_code == 404
    assert client.get(reverse("organizations:member_edit", args=[sibling.pk])).status_code == 404
    assert client.post(reverse("organizations:member_reveal", args=[sibling.pk]), {"reason": "核对"}).status_code == 404
    listing = client.get(reverse("organizations:members")).content.decode()
    assert bureau.member_a.name in listing and sibling.name not in listing


def test_branch_secretary_export_holds_only_own_branch(bureau, client_for):
    from io import BytesIO

    from openpyxl import load_workbook

    response = client_for("branch_secretary").get(reverse("organizations:member_export"))
    assert response.status_code == 200
    cells = {str(c.value) for row in load_workbook(BytesIO(response.content)).active.iter_rows() for c in row}
    assert bureau.member_a.name in cells
    assert bureau.member_b.name not in cells
    # Asking for the sibling branch by id is a 404, not an empty file.
    other = client_for("branch_secretary").get(reverse("organizations:member_export"),
                                                {"organization": bureau.branch_b.pk})
    assert other.status_code == 404


def test_sibling_secretary_cannot_edit_by_post(bureau, client_for):
    url = reverse("organizations:member_edit", args=[bureau.member_a.pk])
    response = client_for("sibling_secretary").post(url, {"name": "改名", "gender": "male"})
    assert response.status_code == 404
    assert Member.objects.get(pk=bureau.member_a.pk).name == "张三"


def test_member_sees_own_record_but_not_a_colleague(bureau, client_for):
    client = client_for("member")
    assert client.get(reverse("organizations:member_detail", args=[bureau.member_a.pk])).status_code == 200
    colleague = Member.objects.filter(organization=bureau.branch_a).exclude(pk=bureau.member_a.pk).first()
    assert client.get(reverse("organizations:member_detail", args=[colleague.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["sys_admin", "security_admin", "audit_admin"])
def test_three_admins_see_no_business_data(bureau, client_for, persona):
    from dangjian.access import policy

    user = bureau.users[persona]
    assert not policy.members(user).exists()
    assert not policy.organizations(user).exists()
    assert not policy.units(user).exists()
