"""Accounts and role grants (三员: the system admin manages accounts, the security admin grants
roles). Each write is audited in its own transaction."""

import logging
import secrets
import string

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from dangjian.access import otp
from dangjian.access.models import PasswordHistory, RoleAssignment, User
from dangjian.access.roles import THREE_ADMINS, UNIT_ROLES, Role
from dangjian.audit.services import Actor, audit_changes, audit_record
from dangjian.core.updates import model_update

log = logging.getLogger("dangjian.access.otp")


@transaction.atomic
def user_create(*, by: Actor, username: str, full_name: str, password: str, member=None,
                must_change_password: bool = True) -> User:
    """A new account. Its password was set by someone else, so it is changed at the first log-in
    (only the demo, whose accounts are for trying out, passes must_change_password=False)."""
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
    user = User.objects.create_user(username=username, password=password, full_name=full_name.strip(), member=member,
                                    must_change_password=must_change_password, password_changed_at=timezone.now())
    _remember_password(user)
    audit_record(by=by, action="user.create", obj=user,
                 after={"username": username, "full_name": user.full_name, "member": member.pk if member else None,
                        "must_change_password": must_change_password})
    return user


def _remember_password(user: User) -> None:
    """Keep the hash just set; drop those older than the last PASSWORD_HISTORY."""
    PasswordHistory.objects.create(user=user, password=user.password)
    keep = PasswordHistory.objects.filter(user=user).order_by("-created_at", "-pk")[:settings.PASSWORD_HISTORY]
    PasswordHistory.objects.filter(user=user).exclude(pk__in=list(keep.values_list("pk", flat=True))).delete()


@transaction.atomic
def password_change(*, by: Actor, user: User, old_password: str, new_password: str,
                    keep_session: str | None = None) -> User:
    """The user changes their own password: the old one must be right, the new one follow the rules
    and not be one of the last PASSWORD_HISTORY. Every other session of the user ends."""
    if not user.check_password(old_password):
        raise ValidationError({"old_password": "原密码不正确。"})
    problems = []  # every problem at once: a reused password may also break a rule
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        problems += exc.messages
    # Each comparison is a full hash (~0.4 s): the current password is checked only when the history,
    # which normally holds it, does not (accounts from before the history).
    recent = list(PasswordHistory.objects.filter(user=user).order_by("-created_at", "-pk")
                  .values_list("password", flat=True)[:settings.PASSWORD_HISTORY])
    hashes = recent if user.password in recent else [user.password, *recent]
    if any(check_password(new_password, h) for h in hashes):
        problems.append(f"新密码不能与最近{settings.PASSWORD_HISTORY}次使用过的密码相同。")
    if problems:
        raise ValidationError({"new_password1": problems})
    user.set_password(new_password)
    user.must_change_password = False
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    _remember_password(user)
    ended = _end_sessions(user, keep=keep_session)
    audit_record(by=by, action="user.password_change", obj=user,
                 note=f"结束其他会话 {ended} 个" if ended else "")
    return user


# Read aloud or copied by hand: no look-alikes (I, l, O, 0, 1, o).
TEMPORARY_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "IlO01o") + "!@#%*?"


def _temporary_password() -> str:
    while True:
        candidate = "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(14))
        try:
            validate_password(candidate)
        except ValidationError:
            continue
        return candidate


@transaction.atomic
def password_reset(*, by: Actor, user: User) -> tuple[User, str]:
    """The system admin resets a forgotten password: a random one-time password, shown once, that
    the user must change at the next log-in. Not for 三员 accounts (their own change page, or the
    server console), so that no admin ever holds a working password of another admin."""
    if by.user is not None and by.user.pk == user.pk:
        raise ValidationError("不能重置自己的密码，请使用“修改密码”。")
    admin_roles = _held(user) & THREE_ADMINS
    if admin_roles:
        raise ValidationError(f"三员分立：不能在此重置{_labels(admin_roles)}的密码（本人修改，或在服务器控制台重置）。")
    temporary = _temporary_password()
    user.set_password(temporary)
    user.must_change_password = True
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    _remember_password(user)
    ended = _end_sessions(user)
    audit_record(by=by, action="user.password_reset", obj=user, note=f"结束会话 {ended} 个" if ended else "")
    return user, temporary


def _held(user: User) -> set[str]:
    return set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))


def _labels(roles) -> str:
    return "、".join(Role(r).label for r in sorted(roles))


@transaction.atomic
def user_bind_member(*, by: Actor, user: User, member) -> User:
    """The security admin binds an account to the member record of the same person (the account
    then reads that record in full). Never a 三员 account: that would let an admin read a member."""
    if user.member_id is not None:
        raise ValidationError({"user": f"账号 {user.username} 已对应党员，请先解除。"})
    if User.objects.filter(member=member).exists():
        raise ValidationError({"member": f"{member.name}已有对应账号。"})
    admin_roles = _held(user) & THREE_ADMINS
    if admin_roles or user.admin_account:
        raise ValidationError({"user": f"三员分立：{_labels(admin_roles) or '管理员（三员）'}账号不能对应党员。"})
    if by.user is not None and by.user.pk == user.pk:
        raise ValidationError({"user": "不能为自己的账号对应党员。"})
    changes = model_update(instance=user, fields=["member"], data={"member": member})
    audit_changes(by=by, action="user.bind_member", obj=user, changes=changes, always=True)
    return user


@transaction.atomic
def user_unbind_member(*, by: Actor, user: User) -> User:
    changes = model_update(instance=user, fields=["member"], data={"member": None})
    audit_changes(by=by, action="user.unbind_member", obj=user, changes=changes, always=True)
    return user


def _end_sessions(user: User, keep: str | None = None) -> int:
    """Sessions carry the user id inside their data, so scan live sessions (a small table)."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).exclude(session_key=keep).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def user_set_active(*, by: Actor, user: User, active: bool) -> User:
    """Disable or enable an account; disabling ends its sessions at once (ASVS 7.4.2)."""
    if by.user is not None and by.user.pk == user.pk and not active:
        raise ValidationError("不能停用自己的账号。")
    admin_roles = _held(user) & THREE_ADMINS
    if by.user is not None and admin_roles and not active:
        raise ValidationError(f"三员分立：不能停用{_labels(admin_roles)}的账号。")
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
    """Grant a role on a node. 三员 roles are global and exclude one another and every business role;
    no one grants a role to themselves (等保 8.1.5)."""
    if role not in Role.values:
        raise ValidationError({"role": "请选择角色。"})
    if by.user is not None and by.user.pk == user.pk:
        raise ValidationError({"user": "不能给自己授予角色。"})
    held = _held(user)
    if role in THREE_ADMINS and held - THREE_ADMINS:
        raise ValidationError({"role": f"三员分立：该账号已有业务角色（{_labels(held - THREE_ADMINS)}），"
                                       f"不能再授予{Role(role).label}。"})
    if role not in THREE_ADMINS and held & THREE_ADMINS:
        raise ValidationError({"role": f"三员分立：该账号是{_labels(held & THREE_ADMINS)}，"
                                       f"不能再授予业务角色{Role(role).label}。"})
    if role not in THREE_ADMINS and user.admin_account:
        raise ValidationError({"role": f"三员分立：该账号曾是管理员（三员）账号，不能授予业务角色{Role(role).label}；"
                                       "请为本人另建业务账号。"})
    if role in THREE_ADMINS and user.member_id is not None:
        raise ValidationError({"role": f"三员分立：该账号已对应党员，不能授予{Role(role).label}。"})
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
    if role in THREE_ADMINS and not user.admin_account:
        user.admin_account = True
        user.save(update_fields=["admin_account"])
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


# ---------------------------------------------------------------- the second factor (access/otp.py)

WRONG_CODE = "验证码不正确：请输入验证器应用上当前显示的6位数字（注意手机时间须准确）。"


def _otp_failed(*, by: Actor, user: User, note: str) -> None:
    """A wrong or refused code: on the trail and in the log, in its own transaction so that the
    caller's refusal (a raised ValidationError) does not roll it back."""
    with transaction.atomic():
        audit_record(by=by, action="auth.otp_failed", obj=user, note=note)
    log.warning("second factor refused for %s from %s: %s", user.get_username(), by.ip or "?", note)


def otp_device_enrol(*, by: Actor, user: User, key: str, token: str) -> User:
    """Enrol the authenticator app the user set up from `key` (shown once on the enrol page): the
    app's current code confirms it. One device per account; enrolling again needs a reset (the
    security admin) or the removal of the old one with its code."""
    if otp.confirmed_device(user) is not None:
        raise ValidationError("该账号已绑定验证器；如需更换，请先在“双因素认证”页面用原验证码解除绑定。")
    step = otp.matching_step(key, token)
    if step is None:
        _otp_failed(by=by, user=user, note="绑定验证器时验证码错误")
        raise ValidationError({"token": WRONG_CODE})
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()  # a stale unconfirmed one, if any
        TOTPDevice.objects.create(user=user, name=otp.DEVICE_NAME, key=key, step=otp.STEP, digits=otp.DIGITS,
                                  tolerance=otp.TOLERANCE, confirmed=True, last_t=step)
        audit_record(by=by, action="auth.otp_enrol", obj=user, note=f"绑定{otp.DEVICE_NAME}")
    return user


def _check_code(*, by: Actor, user: User, token: str, what: str) -> TOTPDevice:
    """The user's device if `token` is its current code; otherwise the failure is audited and logged
    and a ValidationError says why. django-otp throttles the device: after n failures in a row the
    next try is refused until FACTOR * 2^(n-1) seconds have passed."""
    device = otp.confirmed_device(user)
    if device is None:
        raise ValidationError({"token": "该账号尚未绑定验证器。"})
    allowed, details = device.verify_is_allowed()
    if not allowed:
        until = (details or {}).get("locked_until") or timezone.now()
        wait = max(1, int((until - timezone.now()).total_seconds()) + 1)
        _otp_failed(by=by, user=user, note=f"{what}：连续错误{device.throttling_failure_count}次，暂停验证")
        raise ValidationError({"token": f"验证码连续错误{device.throttling_failure_count}次，请{wait}秒后再试。"})
    with transaction.atomic():  # django-otp's own lock on the device row, and its throttle count
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        verified = device.verify_token((token or "").strip())
    if not verified:
        _otp_failed(by=by, user=user, note=f"{what}：验证码错误（连续第{device.throttling_failure_count}次）")
        raise ValidationError({"token": WRONG_CODE})
    return device


def otp_verify(*, by: Actor, user: User, token: str) -> User:
    """The second step of a log-in: the current code of the user's app. The caller then marks the
    session verified (django_otp.login with `otp.confirmed_device(user)`)."""
    _check_code(by=by, user=user, token=token, what="登录验证")
    with transaction.atomic():
        audit_record(by=by, action="auth.otp_verify", obj=user)
    return user


def otp_device_remove(*, by: Actor, user: User, token: str) -> User:
    """The user removes their own app (a new phone), proving they hold it with its current code.
    An account that requires the second factor enrols a new one at its next page."""
    if by.user is None or by.user.pk != user.pk:
        raise ValidationError("只能解除本人的验证器；他人的由安全管理员重置。")
    _check_code(by=by, user=user, token=token, what="解除绑定")
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        audit_record(by=by, action="auth.otp_remove", obj=user, note=f"解除验证器 {removed} 个")
    return user


@transaction.atomic
def otp_device_reset(*, by: Actor, user: User) -> User:
    """The security admin resets another account's app (lost phone): the device is deleted and every
    session of the account ends; it enrols a new app at its next log-in. Never one's own (that would
    let a stolen password alone replace the second factor)."""
    if by.user is not None and by.user.pk == user.pk:
        raise ValidationError("不能重置自己的验证器；请在“双因素认证”页面用验证码解除绑定。")
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    if not removed:
        raise ValidationError(f"账号 {user.username} 尚未绑定验证器，无需重置。")
    ended = _end_sessions(user)
    audit_record(by=by, action="auth.otp_reset", obj=user,
                 note=f"删除验证器 {removed} 个" + (f"，结束会话 {ended} 个" if ended else ""))
    return user
