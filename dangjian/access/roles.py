"""The roles of DESIGN.md and what each may do. This table is the whole authorisation model;
`policy` turns it into scoped querysets."""

from django.db import models


class Role(models.TextChoices):
    PARTY_OFFICE = "party_office", "党办/机关党委"
    BRANCH_SECRETARY = "branch_secretary", "支部书记/组织委员"
    LEADER = "leader", "局领导（党组成员）"
    INSPECTION_OFFICE = "inspection_office", "巡察办"
    UNIT_LIAISON = "unit_liaison", "被巡察单位联络人"
    DISCIPLINE = "discipline", "纪检"
    MEMBER = "member", "党员"
    SYS_ADMIN = "sys_admin", "系统管理员"
    SECURITY_ADMIN = "security_admin", "安全管理员"
    AUDIT_ADMIN = "audit_admin", "审计管理员"


# 三员分立: these three exclude each other, are granted bureau-wide (no node) and carry no business
# permission.
THREE_ADMINS = frozenset({Role.SYS_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})


def second_factor_roles() -> frozenset[str]:
    """Roles whose accounts must pass a second factor: the three admins always (等保 8.1.4.1 d),
    and any role OTP_REQUIRED_ROLES adds."""
    from django.conf import settings

    return THREE_ADMINS | frozenset(settings.OTP_REQUIRED_ROLES)


# Roles granted on a node of the unit tree rather than the organisation tree.
UNIT_ROLES = frozenset({Role.UNIT_LIAISON})


class Perm(models.TextChoices):
    VIEW_ORGANIZATIONS = "view_organizations", "查看党组织"
    MANAGE_ORGANIZATIONS = "manage_organizations", "管理党组织"
    VIEW_UNITS = "view_units", "查看单位"
    MANAGE_UNITS = "manage_units", "管理单位"
    VIEW_MEMBERS = "view_members", "查看党员"
    MANAGE_MEMBERS = "manage_members", "管理党员"
    SEE_PHONE = "see_phone", "查看完整电话"
    UNMASK_ID = "unmask_id", "查看完整身份证号（留痕）"
    EXPORT_MEMBERS = "export_members", "导出花名册"
    IMPORT_WORKBOOK = "import_workbook", "导入工作簿"
    VIEW_METRICS = "view_metrics", "查看统计口径"
    VIEW_MEETINGS = "view_meetings", "查看组织生活"
    RECORD_MEETINGS = "record_meetings", "记录会议"
    VIEW_DECISIONS = "view_decisions", "查看“三重一大”决策"
    MANAGE_CONTACT_POINTS = "manage_contact_points", "设置党建联系点"
    MANAGE_USERS = "manage_users", "管理账号"
    MANAGE_ROLES = "manage_roles", "分配角色"
    RESET_SECOND_FACTOR = "reset_second_factor", "重置他人验证器"
    VIEW_AUDIT = "view_audit", "查阅审计日志"


P = Perm
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.PARTY_OFFICE: frozenset({
        P.VIEW_ORGANIZATIONS, P.MANAGE_ORGANIZATIONS, P.VIEW_UNITS, P.MANAGE_UNITS, P.VIEW_MEMBERS,
        P.MANAGE_MEMBERS, P.SEE_PHONE, P.UNMASK_ID, P.EXPORT_MEMBERS, P.IMPORT_WORKBOOK, P.VIEW_METRICS,
        P.VIEW_MEETINGS, P.RECORD_MEETINGS, P.VIEW_DECISIONS, P.MANAGE_CONTACT_POINTS,
    }),
    Role.BRANCH_SECRETARY: frozenset({
        P.VIEW_ORGANIZATIONS, P.VIEW_UNITS, P.VIEW_MEMBERS, P.MANAGE_MEMBERS, P.SEE_PHONE,
        P.EXPORT_MEMBERS, P.VIEW_METRICS, P.VIEW_MEETINGS, P.RECORD_MEETINGS,
    }),
    Role.LEADER: frozenset({P.VIEW_ORGANIZATIONS, P.VIEW_UNITS, P.VIEW_MEMBERS, P.VIEW_METRICS, P.VIEW_MEETINGS,
                            P.VIEW_DECISIONS}),
    Role.INSPECTION_OFFICE: frozenset({P.VIEW_ORGANIZATIONS, P.VIEW_UNITS, P.VIEW_METRICS, P.VIEW_MEETINGS,
                                       P.VIEW_DECISIONS}),
    Role.UNIT_LIAISON: frozenset({P.VIEW_UNITS}),
    # The discipline group supervises 三重一大 decisions (seed: 积极配合纪检组严格监督落实).
    Role.DISCIPLINE: frozenset({P.VIEW_ORGANIZATIONS, P.VIEW_UNITS, P.VIEW_MEMBERS, P.VIEW_MEETINGS,
                                P.VIEW_DECISIONS}),
    # A member's own record is granted by `policy`, not by a node: see policy.members.
    Role.MEMBER: frozenset(),
    Role.SYS_ADMIN: frozenset({P.MANAGE_USERS}),
    Role.SECURITY_ADMIN: frozenset({P.MANAGE_ROLES, P.RESET_SECOND_FACTOR}),
    Role.AUDIT_ADMIN: frozenset({P.VIEW_AUDIT}),
}
