"""The API's two ways in, tried in this order:

1. `Authorization: Bearer <secret>`: an `ApiToken`. A presented token that is unknown, revoked or
   whose user is inactive answers 401 at once (it does not fall through to the session); so does a
   token of a user who must change their password first (a new or reset account, or one past
   PASSWORD_MAX_AGE_DAYS), as the pages send that user to the change page, and a token of a user who
   must pass the second factor (OTP_REQUIRED_ROLES) but has not enrolled an authenticator.
2. The browser session (the same log-in as the pages), with Django's CSRF check on unsafe methods.
   Without a logged-in session nothing is checked here, so an anonymous call gets 401, not 403.

Either way `request.user` is the acting user, so `Actor.from_request` and the policy work as in views.
"""

from django.conf import settings
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer

from dangjian.access.otp import confirmed_device, second_factor_required
from dangjian.access.passwords import must_change_password
from dangjian.api.tokens import api_token_user

UNAUTHENTICATED = "未登录，或访问令牌无效、已吊销。"
MUST_CHANGE_PASSWORD = "该账号须先登录页面修改密码，令牌暂不可用。"
MUST_ENROL_SECOND_FACTOR = "该账号须先登录页面绑定验证器（双因素认证），令牌暂不可用。"


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = api_token_user(token)
        if user is None:
            raise AuthenticationError(message=UNAUTHENTICATED)
        if must_change_password(user):
            raise AuthenticationError(message=MUST_CHANGE_PASSWORD)
        if second_factor_required(user) and confirmed_device(user) is None:
            raise AuthenticationError(message=MUST_ENROL_SECOND_FACTOR)
        request.user = user
        return user


class Session(APIKeyCookie):
    """ninja's django_auth, but CSRF is checked only once there is a session user to protect."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        return super().__call__(request)  # CSRF check on unsafe methods, then authenticate()

    def authenticate(self, request, key):
        return request.user


bearer_token = BearerToken()
session = Session(csrf=True)
