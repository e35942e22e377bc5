"""Log-in, log-out and failed log-ins go to the audit trail (等保 8.1.4.3: security events). A log-in
also starts the session's clock (SESSION_ABSOLUTE_HOURS) and its second factor afresh."""

import time

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django_otp import DEVICE_ID_SESSION_KEY

from dangjian.access.middleware import LOGIN_AT, TOUCHED_AT
from dangjian.audit.services import Actor, audit_record
from dangjian.core.client_ip import client_ip


def _actor(request, user=None, name=None):
    ip = client_ip(request) if request is not None else None
    if user is not None:
        from dangjian.access import policy

        return Actor(user=user, name=user.get_username(), ip=ip, roles=tuple(sorted(policy.roles(user))))
    return Actor(user=None, name=name or "匿名", ip=ip)


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT] = request.session[TOUCHED_AT] = int(time.time())  # saved with the log-in
        if getattr(user, "otp_device", None) is None:  # a new log-in has passed no second factor yet
            request.session.pop(DEVICE_ID_SESSION_KEY, None)
    audit_record(by=_actor(request, user), action="auth.login", obj=user)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(by=_actor(request, user), action="auth.logout", obj=user)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    audit_record(by=_actor(request, name=str(credentials.get("username", ""))[:150]), action="auth.login_failed")
