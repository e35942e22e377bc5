"""Accounts and role grants (三员: the system admin manages accounts, the security admin grants
roles). Each write is audited in its own transaction."""

from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from dangjian.access.models import RoleAssignment, User
from dangjian.access.roles import THREE_ADMINS, UNIT_ROLES, Role
from dangjian.audit.services import Actor, audit_changes, audit_record
from dangjian.core.updates import model_update


@transaction.atomic
def user_create(*, by: Actor, username: str, full_name: str, password: str, member=None) -> User:
    username = username.strip()
    if not username:
        raise ValidationError({"username": "请填写用户名。"})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"用户名 {username} 已存在（不区分大小写）。"})
    if member is not None and User.objects.filter(member=member).exists():
        raise ValidationError({"member": f"{member.name}已有账号。"})
    candidate = User(username=username, full_name=full_name.strip())
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user = User.objects.create_user(username=username, password=password, full_name=full_name.strip(), member=member)
    audit_record(by=by, action="user.create", obj=user,
                 after={"username": username, "full_name": user.full_name, "member": member.pk if member else None})
    return user


def _end_sessions(user: User) -> int:
    """Sessions carry the user id inside their data, so scan live sessions (a small table)."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def user_set_active(*, by: Actor, user: User, active: bool) -> User:
    """Disable or enable an account; disabling ends its sessions at once (ASVS 7.4.2)."""
    if by.user is not None and by.user.pk == user.pk and not active:
        raise ValidationError("不能停用自己的账号。")
    changes = model_update(instance=user, fields=["is_active"], data={"is_active": active})
    ended = 0 if active else _end_sessions(user)
    # Written even when the account already was so: disabling again still ends stray sessions,
    # and an administrator's deliberate act on an account belongs on the record.
    audit_changes(by=by, action="user.enable" if active else "user.disable", obj=user, changes=changes,
                  note=f"结束会话 {ended} 个" if ended else "", always=True)
    return user


@transaction.atomic
def role_grant(*, by: Actor, user: User, role: str, organization=None, unit=None,
               include_descendants: bool = True) -> RoleAssignment:
    """Grant a role on a node. 三员 roles are global and exclude one another (等保 8.1.5)."""
    if role not in Role.values:
        raise ValidationError({"role": "请选择角色。"})
    held = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
    if role in THREE_ADMINS:
        if organization or unit:
            raise ValidationError({"role": "系统、安全、审计管理员为全局角色，不需要选择党组织或单位。"})
        clash = (held & THREE_ADMINS) - {role}
        if clash:
            names = "、".join(Role(r).label for r in clash)
            raise ValidationError({"role": f"三员分立：该账号已是{names}，不能再授予{Role(role).label}。"})
    elif role in UNIT_ROLES:
        if unit is None or organization is not None:
            raise ValidationError({"unit": f"{Role(role).label}须授予在单位上。"})
    elif organization is None or unit is not None:
        raise ValidationError({"organization": f"{Role(role).label}须授予在党组织上。"})
    exists = RoleAssignment.objects.filter(user=user, role=role, organization=organization, unit=unit)
    if exists.exists():
        raise ValidationError("该账号已在此节点上拥有该角色。")
    assignment = RoleAssignment.objects.create(user=user, role=role, organization=organization, unit=unit,
                                               include_descendants=include_descendants)
    audit_record(by=by, action="role.grant", obj=assignment,
                 after={"user": user.username, "role": role, "organization": getattr(organization, "code", None),
                        "unit": getattr(unit, "code", None), "include_descendants": include_descendants})
    return assignment


@transaction.atomic
def role_revoke(*, by: Actor, assignment: RoleAssignment) -> None:
    before = {"user": assignment.user.username, "role": assignment.role,
              "organization": getattr(assignment.organization, "code", None),
              "unit": getattr(assignment.unit, "code", None)}
    audit_record(by=by, action="role.revoke", obj=assignment, before=before)
    assignment.delete()
