"""Cross-scope (IDOR) checks beyond the route matrix (tests/access/test_route_matrix.py): what a page
holds, not only whether it opens."""

import pytest
from django.urls import reverse

from dangjian.organizations.models import Member


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
