from django.conf import settings
from django.core.checks import Error, Warning, register


@register(deploy=True)
def no_superusers(app_configs, **kwargs):
    """三员分立: production runs without an all-powerful account."""
    from django.db import DatabaseError

    from dangjian.access.models import User

    try:
        count = User.objects.filter(is_superuser=True).count()
    except DatabaseError:
        return []
    if count:
        return [Error(f"{count} superuser account(s) exist; 三员分立 forbids them.", id="dangjian.E001")]
    return []


@register()
def session_timeout(app_configs, **kwargs):
    if settings.SESSION_COOKIE_AGE > 30 * 60:
        return [Warning("SESSION_IDLE_MINUTES exceeds 30 minutes (等保 idle timeout).", id="dangjian.W001")]
    return []


@register()
def second_factor_roles(app_configs, **kwargs):
    """OTP_REQUIRED_ROLES names roles that exist (a typo would silently drop the second factor)."""
    from dangjian.access.roles import Role

    unknown = [r for r in settings.OTP_REQUIRED_ROLES if r not in Role.values]
    if unknown:
        return [Error(f"OTP_REQUIRED_ROLES names unknown roles {unknown}; known: {', '.join(Role.values)}",
                      id="dangjian.E002")]
    return []
