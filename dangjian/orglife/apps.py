from django.apps import AppConfig


class OrglifeConfig(AppConfig):
    name = "dangjian.orglife"
    label = "orglife"
    verbose_name = "组织生活"

    def ready(self):
        from dangjian.access import policy
        from dangjian.orglife import metrics, todos  # noqa: F401  (registers figures and reminders)
        from dangjian.orglife.models import AgendaItem, Attendance, ContactPoint, Guest, Meeting, MeetingAttachment

        # The records this area keeps, scoped by the organisation each belongs to.
        policy.register(Meeting, select_related=("organization", "host", "recorder", "lecturer"))
        for model in (AgendaItem, Attendance, Guest, MeetingAttachment):
            policy.register(model, organization="meeting__organization", select_related=("meeting__organization",))
        policy.register(ContactPoint, select_related=("organization", "leader"))

        # A 留党察看 recorded later takes 表决权 from the member's attendance at meetings it covers; a
        # 转正 dated in the past gives it at the meetings from that day.
        from dangjian.organizations import services as organization_services
        from dangjian.organizations.models import Member
        from dangjian.orglife.services import member_voting_rights_refresh

        organization_services.voting_rights_changed.connect(
            member_voting_rights_refresh, sender=Member, dispatch_uid="orglife.member_voting_rights_refresh")

        from dangjian.audit.actions import (
            register_children,
            register_field_labels,
            register_labels,
            register_unversioned,
        )

        register_unversioned({"meeting.attach", "meeting.voting_rights"})  # beside the meeting's row

        register_labels({
            "meeting.record": "记录会议",
            "meeting.update": "修改会议记录",
            "agenda_item.add": "增加议题",
            "contact_point.set": "设置党建联系点",
            "heart_talk.record": "记录谈心谈话",
            "meeting.attach": "上传会议附件",
            "meeting.delete": "删除会议记录",
            "meeting.voting_rights": "更新表决权（留党察看、转正）",
            "ledger.export": "导出组织生活台账",
            "minutes.export": "导出会议记录",
            "attachment.export": "导出会议附件",
        })
        # Keys of audit entries that are not fields of the meeting (counts and the parts kept in
        # other tables).
        for key, model, keyed_by in (("attendance", "orglife.attendance", "organizations.member"),
                                     ("guests", "orglife.guest", "orglife.guest"),
                                     ("agenda", "orglife.agendaitem", "orglife.agendaitem")):
            register_children("orglife.meeting", key, model=model, keyed_by=keyed_by)
        register_field_labels("orglife.meeting", {
            "expected": "应到人数", "present": "实到人数", "absent": "缺席", "guests": "列席人员", "agenda": "议题",
            "attendance": "出缺席", "study_tags": "学习主题", "also_counts": "同时计为",
        })
