"""Existing records under the new rules: 表决权 on each attendance row from the member's status on
the meeting day (预备党员 then: no vote; 留党察看 periods are new, so none existed), and agenda items
whose category their body does not decide mapped to one it does (the title is kept as typed)."""

from django.db import migrations
from django.utils import timezone

# Frozen copy of the rule data agenda.categories.* as of this migration.
GENERAL = {"admit_probationary", "confirm_full", "discipline", "election", "ordinary"}
BRANCH_COMMITTEE = {"member_development", "life_arrangement", "ordinary"}


def _allowed(kind, org_kind):
    if kind == "general_meeting":
        return GENERAL
    if kind == "committee_meeting" and org_kind != "organ_committee":
        return BRANCH_COMMITTEE
    return None  # 党组会, 党委会: every old category is theirs


def _mapped(title, allowed):
    if "转正" in title and "confirm_full" in allowed:
        return "confirm_full"
    if "预备党员" in title and "admit_probationary" in allowed:
        return "admit_probationary"
    if "发展" in title and "member_development" in allowed:
        return "member_development"
    return "ordinary"


def forwards(apps, schema_editor):
    Attendance = apps.get_model("orglife", "Attendance")
    AgendaItem = apps.get_model("orglife", "AgendaItem")
    no_vote = []
    rows = (Attendance.objects.filter(member__category="probationary") | Attendance.objects.filter(
        member__full_on__isnull=False)).select_related("meeting", "member")
    for row in rows.iterator():
        day = timezone.localtime(row.meeting.starts_at).date()
        if row.member.category == "probationary" or (row.member.full_on and row.member.full_on > day):
            no_vote.append(row.pk)
    Attendance.objects.filter(pk__in=no_vote).update(has_vote=False)
    for item in AgendaItem.objects.select_related("meeting", "meeting__organization").iterator():
        allowed = _allowed(item.meeting.kind, item.meeting.organization.kind)
        if allowed is not None and item.category not in allowed:
            item.category = _mapped(item.title, allowed)
            item.save(update_fields=["category"])
    # Items typed as 一般事项 at a 党员大会 that accepted a member now say so.
    for item in AgendaItem.objects.filter(meeting__kind="general_meeting", category="ordinary").iterator():
        mapped = _mapped(item.title, GENERAL)
        if mapped != "ordinary":
            item.category = mapped
            item.save(update_fields=["category"])


class Migration(migrations.Migration):
    dependencies = [("orglife", "0004_voting_rights_and_matter_kinds"), ("organizations", "0007_probationperiod")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
