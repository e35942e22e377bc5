from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "dangjian.organizations"
    label = "organizations"
    verbose_name = "党组织与党员"

    def ready(self):
        from dangjian.access import policy
        from dangjian.audit.actions import register_field_labels, register_labels, register_unversioned
        from dangjian.organizations import metrics, todos  # noqa: F401  (registers figures and reminders)
        from dangjian.organizations.models import Appointment, Membership, OrganizationEvent

        # Records about organisations and members, scoped like any area's (the trees themselves and
        # the members are the policy's own).
        policy.register(Appointment, select_related=("organization", "member"))
        policy.register(Membership, select_related=("organization", "member"))
        policy.register(OrganizationEvent, select_related=("organization",))

        register_labels({
            "appointment.create": "任职",
            "appointment.end": "免职",
            "member.confirm_full": "预备党员转正",
            "member.probation": "记录留党察看",
            "member.create": "登记党员",
            "member.export": "导出花名册",
            "member.history": "登记以前的组织关系",
            "member.leave": "离开花名册",
            "member.reencrypt": "重新加密党员个人信息（更换密钥）",
            "member.reveal_id_number": "查看完整身份证号和出生日期",
            "member.transfer": "组织关系转接",
            "member.update": "修改党员信息",
            "organization.create": "成立党组织",
            "organization.dissolve": "撤销党组织",
            "organization.renew_term": "换届",
            "organization.extend_term": "延期换届",
            "organization.restructure": "调整党组织",
            "roster.import": "导入花名册",
            "unit.create": "添加单位",
            "unit.update": "修改单位",
            "workbook.import": "导入工作簿",
        })
        # Keys of audit entries that are not fields of the model (or whose name would mislead).
        register_field_labels("organizations.organization", {"path": "所在位置", "appointments_ended": "同时免去职务"})
        register_field_labels("organizations.member", {"appointments_ended": "同时免去职务"})
        # About a member but not writes of the member's row (their version stays).
        register_unversioned({"member.export", "member.history", "member.probation", "member.reveal_id_number",
                              "member.reencrypt"})
