"""Log-in throttling (等保 8.1.4.1 b, 8.1.4.6): failures are counted per account and per address.

Every account locks after LOGIN_FAILURE_LIMIT failures (from any addresses) and every address
after LOGIN_ADDRESS_FAILURE_LIMIT failures (over any accounts), so a spray from one address locks
that address. The three admin accounts are counted per (account, address) instead of per account:
someone spraying an admin's name from elsewhere locks only their own address, and the admin still
logs in from an allowed one (ADMIN_LOGIN_NETWORKS). `manage.py unlock_account` lifts a lock.
"""

import ipaddress

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

from dangjian.access.roles import THREE_ADMINS
from dangjian.audit.actions import register_labels
from dangjian.core.client_ip import client_ip

register_labels({
    "auth.login_refused": "拒绝登录（管理员地址不在允许范围）",
    "auth.unlock": "解除登录锁定",
})

ACCOUNT = "username"
ADDRESS = "ip_address"
ACCOUNT_AT_ADDRESS = ("username", "ip_address")


def is_admin_name(username: str | None) -> bool:
    """Whether the typed user name belongs to an account holding one of the three admin roles."""
    if not username:
        return False
    from dangjian.access.models import RoleAssignment

    return RoleAssignment.objects.filter(user__username=username, role__in=THREE_ADMINS).exists()


def lockout_parameters(request_or_attempt, credentials=None) -> list:
    """AXES_LOCKOUT_PARAMETERS: what a failure is counted against."""
    if credentials is not None or hasattr(request_or_attempt, "POST"):
        username = get_client_username(request_or_attempt, credentials)
    else:  # an AccessAttempt row
        username = getattr(request_or_attempt, "username", None)
    # axes asks several times per log-in; remember the answer on the request.
    known = getattr(request_or_attempt, "_admin_names", None)
    if known is None:
        known = {}
        if hasattr(request_or_attempt, "POST"):
            request_or_attempt._admin_names = known
    if username not in known:
        known[username] = is_admin_name(username)
    if known[username]:
        return [list(ACCOUNT_AT_ADDRESS), ADDRESS]
    return [ACCOUNT, ADDRESS]


def _limit_of(parameter) -> int:
    return settings.LOGIN_ADDRESS_FAILURE_LIMIT if parameter == ADDRESS else settings.AXES_FAILURE_LIMIT


class LoginThrottleHandler(AxesDatabaseHandler):
    """axes compares one number (the failures) with one limit (AXES_FAILURE_LIMIT); the address has
    its own limit. So each counter's failures are put on the account's scale,
    floor(failures * account_limit / own_limit), which reaches the account limit exactly when the
    counter reaches its own limit, and the largest is returned."""

    def get_failures(self, request, credentials=None) -> int:
        account_limit = settings.AXES_FAILURE_LIMIT
        parameters = lockout_parameters(request, credentials)
        worst = 0
        for parameter, attempts in zip(parameters, self.get_user_attempts(request, credentials), strict=True):
            failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            worst = max(worst, failures * account_limit // _limit_of(parameter))
        return worst


    def reset_user_attempts(self, request, credentials=None) -> int:
        """On a successful log-in axes deletes every counter the request matches, the address's
        included: anyone with one working account could then spray, log in, and spray again. Forgive
        only the account's own failures (an admin's at this address only)."""
        username = get_client_username(request, credentials)
        attempts = AccessAttempt.objects.filter(username=username)
        if lockout_parameters(request, credentials)[0] == list(ACCOUNT_AT_ADDRESS):
            attempts = attempts.filter(ip_address=request.axes_ip_address)
        return attempts.delete()[0]


def address_allowed_for_admin(address: str) -> bool:
    """ADMIN_LOGIN_NETWORKS: the networks the three admins may log in from; empty means anywhere."""
    networks = settings.ADMIN_LOGIN_NETWORKS
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net) for net in networks)


def axes_client_ip(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the same address the audit trail records (None if unknown)."""
    return client_ip(request) or None
