"""The second factor (等保 8.1.4.1 d: two or more kinds of authentication for administrators): a TOTP
authenticator app, through django-otp's TOTP device.

Who: every account holding a 三员 role (always) or a role OTP_REQUIRED_ROLES adds. After the
password such an account enrols an app (first time: a QR code and its secret, then a code to confirm)
or enters the app's current code; until then SecondFactorRequiredMiddleware lets it reach only the
enrol/verify pages and log-out. Wrong codes are throttled by django-otp (each try after n failures
waits OTP_TOTP_THROTTLE_FACTOR * 2^(n-1) seconds), audited and logged (services.otp_verify).

Reads only; the writes (enrol, verify, remove, reset) are services in `access/services.py`."""

import base64
import secrets
import time

import segno
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from dangjian.access import policy
from dangjian.access.roles import second_factor_roles

# The session key under which the enrol page keeps the secret it showed, until a code confirms it.
PENDING_SECRET = "otp_pending_secret"
DEVICE_NAME = "手机验证器"
STEP = 30
DIGITS = 6
TOLERANCE = 1  # the code before and after the current one are accepted (clock drift)


def second_factor_required(user) -> bool:
    """Whether this account must pass a second factor (a 三员 role, or one OTP_REQUIRED_ROLES adds)."""
    if not user.is_authenticated:
        return False
    return bool(policy.roles(user) & second_factor_roles())


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def new_secret() -> str:
    """A fresh TOTP key: 20 random bytes, hex-encoded as django-otp stores it."""
    return secrets.token_hex(20)


def base32(key_hex: str) -> str:
    """The key as an authenticator app takes it by hand: base32 in groups of four."""
    text = base64.b32encode(bytes.fromhex(key_hex)).decode().rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def config_url(user, key_hex: str) -> str:
    """The otpauth:// address the QR code carries (django-otp's format, with the issuer)."""
    return TOTPDevice(user=user, key=key_hex, step=STEP, digits=DIGITS).config_url


def qr_svg(url: str) -> str:
    """Inline SVG of the QR code: no style attribute and no script (the CSP forbids both)."""
    return segno.make(url, error="m").svg_inline(scale=5, title="绑定二维码")


def matching_step(key_hex: str, token: str, *, after: int = -1) -> int | None:
    """The time step whose code `token` is (within TOLERANCE), or None: django-otp's TOTP, for a key
    that is not yet a device (the enrol page's)."""
    token = (token or "").strip()
    if not (token.isdigit() and len(token) == DIGITS):
        return None
    totp = TOTP(bytes.fromhex(key_hex), step=STEP, digits=DIGITS)
    totp.time = time.time()
    return totp.t() if totp.verify(int(token), tolerance=TOLERANCE, min_t=after + 1) else None


def exempt_paths() -> set[str]:
    """What an account that has not passed its second factor may still reach."""
    return {reverse("access:otp_verify"), reverse("access:otp_enrol"), reverse("access:logout")}
