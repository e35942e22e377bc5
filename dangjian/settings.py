"""Settings for 党建工作管理平台, read from environment variables.

Every value that comes from the environment is parsed here and a bad value stops start-up with a
message naming the variable (healthchecks style): a typo must not silently fall back to a default.
"""

import ipaddress
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Environment variable {name} is required")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """Comma-separated IP networks (10.9.0.0/24; a bare address is a /32), normalised."""
    networks = []
    for item in env_list(name, ""):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be comma-separated networks (10.9.0.0/24), got {item!r}") from None
    return networks


DEBUG = env_bool("DEBUG", False)
# In DEBUG a fixed development key is acceptable; in production the key must be provided.
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-0123456789abcdef0123456789abcdef" if DEBUG else None)
# The audit chain's HMAC key lives outside the database so that someone who can write to the
# database cannot recompute the chain after editing a row.
AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY", "dev-only-audit-key" if DEBUG else None)
# `manage.py audit_checkpoint` appends a signed line naming the chain's head to this file (kept by
# the operator, outside the database and its backups), so a cut tail or a wipe shows against it.
AUDIT_CHECKPOINT_FILE = os.environ.get("AUDIT_CHECKPOINT_FILE") or None


def field_keys() -> dict[str, str]:
    """The personal-data keys (dangjian/core/crypto.py), kept outside the database: from the
    environment, or else from FIELD_KEYS_FILE (lines NAME=value, # comments), a file readable by the
    app's user only. Their format is checked by the provider at start-up (system check E010)."""
    names = ("FIELD_ENCRYPTION_KEYS", "FIELD_SEARCH_KEY")
    found = {name: os.environ[name] for name in names if os.environ.get(name)}
    path = os.environ.get("FIELD_KEYS_FILE")
    if path:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ImproperlyConfigured(f"FIELD_KEYS_FILE {path!r} cannot be read: {exc.strerror}") from None
        for line in lines:
            name, sep, value = line.strip().partition("=")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if not sep or name.strip() not in names:
                raise ImproperlyConfigured(f"FIELD_KEYS_FILE: lines must be {' or '.join(names)}=value")
            found.setdefault(name.strip(), value.strip())
    if DEBUG:
        # Development and tests only: fixed keys derived from a public label (the data is fake).
        import hashlib

        dev = hashlib.sha256(b"dangjian-dev-only-field-keys").hexdigest()
        found.setdefault("FIELD_ENCRYPTION_KEYS", f"dev:{dev[:32]}")
        found.setdefault("FIELD_SEARCH_KEY", dev[32:])
    return found


# ID numbers and phones are stored SM4-encrypted, ID numbers also as an HMAC-SM3 search hash. The
# provider is a dotted path so that a deployment can plug a 服务器密码机 (hardware module) provider.
FIELD_CRYPTO_PROVIDER = env_str("FIELD_CRYPTO_PROVIDER", "dangjian.core.crypto.SM4Provider")
_field_keys = field_keys()
FIELD_ENCRYPTION_KEYS = _field_keys.get("FIELD_ENCRYPTION_KEYS", "")  # "kid:hex32,kid:hex32": the first encrypts
FIELD_SEARCH_KEY = _field_keys.get("FIELD_SEARCH_KEY", "")
# Proxies whose X-Forwarded-For is believed (addresses or networks, e.g. "127.0.0.1,10.0.0.0/24");
# empty: the header is ignored and REMOTE_ADDR is the client (dangjian/core/client_ip.py).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an address or network") from None
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "treebeard",
    "django_htmx",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "dangjian.core",
    "dangjian.access",
    "dangjian.audit",
    "dangjian.organizations",
    "dangjian.orglife",
    "dangjian.reports",
    "dangjian.api",
    "dangjian.demo",  # the `demo` command; no models
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "dangjian.core.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.otp_device / is_verified() from the session (django-otp).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before any view (and the CSRF check, which parses a form's body) reads an oversize upload.
    "dangjian.core.uploads.UploadSizeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dangjian.core.middleware.NoStoreMiddleware",
    # In this order: a session past SESSION_ABSOLUTE_HOURS ends; then the second factor (the rest of
    # the log-in); then a forced password change.
    "dangjian.access.middleware.SessionLimitMiddleware",
    "dangjian.access.middleware.SecondFactorRequiredMiddleware",
    "dangjian.access.middleware.PasswordChangeRequiredMiddleware",
    # AxesMiddleware last, as django-axes documents: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dangjian.urls"
WSGI_APPLICATION = "dangjian.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "dangjian" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dangjian.access.context_processors.access",
            ],
        },
    },
]


def database_from_url(url: str) -> dict:
    """Parse postgres://user:pass@host:port/name (the one production backend)."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(f"DATABASE_URL must start with postgres://, got {parts.scheme!r}")
    if not parts.path.strip("/"):
        raise ImproperlyConfigured("DATABASE_URL must name a database")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        "CONN_HEALTH_CHECKS": True,
    }


if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "var" / "dangjian.sqlite3")),
            # Persistent connections so the PRAGMAs below run once per connection, not per request.
            "CONN_MAX_AGE": 60,
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN: with Django's DEFERRED default a
                # read-then-write transaction fails at once with "database is locked" when another
                # writer holds the lock (32 % of requests under load, see the reference doc).
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                # synchronous=FULL: audit entries must survive power loss.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "access.User"

AUTHENTICATION_BACKENDS = [
    # Axes first: a locked-out login is refused before the password hash is computed.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 8, minimum=8)
PASSWORD_MIN_CHARACTER_CLASSES = env_int("PASSWORD_MIN_CHARACTER_CLASSES", 3, minimum=1)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {
        "NAME": "dangjian.access.passwords.CharacterClassValidator",
        "OPTIONS": {"min_classes": PASSWORD_MIN_CHARACTER_CLASSES},
    },
    {"NAME": "dangjian.access.passwords.PatternValidator"},
]

# Lockout (dangjian/access/lockout.py): failures within a sliding 15-minute window are counted per
# account (5 lock it, from whatever addresses) and per address (10 lock it, over whatever accounts,
# so a password spray from one address stops). The three admins are counted per (account, address)
# instead, so nobody can lock them out from elsewhere; `manage.py unlock_account` lifts a lock.
# Each failure expires on its own after the window (AXES_USE_ATTEMPT_EXPIRATION). The database
# handler keeps the counters in the shared database, so they hold across app servers;
# AxesStandaloneBackend refuses a locked log-in before any password hash.
AXES_HANDLER = "dangjian.access.lockout.LoginThrottleHandler"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 10, minimum=1)
LOGIN_FAILURE_WINDOW_MINUTES = env_int("LOGIN_FAILURE_WINDOW_MINUTES", 15, minimum=1)
AXES_COOLOFF_TIME = LOGIN_FAILURE_WINDOW_MINUTES / 60  # hours
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_LOCKOUT_PARAMETERS = "dangjian.access.lockout.lockout_parameters"
# The lockout counts failures per the same client address the audit trail records
# (dangjian/core/client_ip.py, which honours TRUSTED_PROXIES).
AXES_CLIENT_IP_CALLABLE = "dangjian.access.lockout.axes_client_ip"
AXES_RESET_ON_SUCCESS = True
# Tries refused by a lock are not counted: a locked address cannot go on to lock accounts.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "access/locked_out.html"
AXES_VERBOSE = False


# The three admins (系统/安全/审计管理员) may log in only from these networks; empty = anywhere.
ADMIN_LOGIN_NETWORKS = env_networks("ADMIN_LOGIN_NETWORKS")

# Results computed from the records and kept until the next write (core.datacache: a city-wide
# user's reminders and figures). "local": each app-server process keeps its own; "database": one
# table all app servers share (run `manage.py createcachetable` once), so a write is recomputed once.
_CACHE_BACKENDS = {
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dangjian"},
    "database": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "dangjian_cache"},
}
_cache_backend = env_str("CACHE_BACKEND", "local")
if _cache_backend not in _CACHE_BACKENDS:
    raise ImproperlyConfigured(f"CACHE_BACKEND must be one of {', '.join(_CACHE_BACKENDS)}, got {_cache_backend!r}")
CACHES = {"default": {**_CACHE_BACKENDS[_cache_backend], "OPTIONS": {"MAX_ENTRIES": 2000}}}

# Sessions live in the database (stateless app servers). The idle timeout slides with activity.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30, minimum=1) * 60
# Activity slides the idle expiry by saving the session at most once a minute
# (access.middleware.touch), not on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = env_int("SESSION_TOUCH_SECONDS", 60, minimum=1)
# However active, a session ends this many hours after its log-in (SessionLimitMiddleware).
SESSION_ABSOLUTE_HOURS = env_int("SESSION_ABSOLUTE_HOURS", 8, minimum=1)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None

# Response headers (等保 入侵防范; ASVS V14.4). Content-Security-Policy from django-csp: every script and
# style is a file from this site (no inline <script>, on…= handler or style="…" attribute in any
# template: tests/core/test_headers.py), so neither 'unsafe-inline' nor 'unsafe-eval' is needed.
# img-src allows data: for the small SVGs inside Bootstrap's CSS (select arrows, close buttons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
# Browser features no page uses, refused to the page and anything it might embed
# (dangjian/core/middleware.py PermissionsPolicyMiddleware writes the header).
PERMISSIONS_POLICY = {feature: [] for feature in (
    "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope", "hid",
    "idle-detection", "magnetometer", "microphone", "midi", "payment", "screen-wake-lock", "serial", "usb",
    "xr-spatial-tracking",
)}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Behind the TLS proxy: plain HTTP is redirected to HTTPS and browsers are told (HSTS) to use nothing
# else for a year. HSTS_PRELOAD only for a public domain submitted to the browsers' preload list; an
# intranet host name cannot be, so the check asking for it (security.W021) is silenced then.
_BEHIND_TLS = env_bool("BEHIND_TLS_PROXY", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _BEHIND_TLS)
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600 if _BEHIND_TLS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Second factor (django-otp TOTP, dangjian/access/otp.py): accounts holding any of these roles enrol
# an authenticator app and enter its code at every log-in. The three admins (三员) always do, whatever
# this lists; other roles (e.g. party_office) are added here.
OTP_REQUIRED_ROLES = env_list("OTP_REQUIRED_ROLES", "sys_admin,security_admin,audit_admin")
OTP_TOTP_ISSUER = "党建工作管理平台"
# django-otp's throttle: after n wrong codes in a row the next try waits FACTOR * 2^(n-1) seconds.
OTP_TOTP_THROTTLE_FACTOR = env_int("OTP_THROTTLE_FACTOR", 1, minimum=1)

LOGIN_URL = "access:login"
LOGIN_REDIRECT_URL = "home"
# 等保 8.1.4.1: a new password may not be one of the last N; after this many days a change is forced.
# How long a previewed workbook import waits for its uploader to confirm it.
PENDING_IMPORT_MINUTES = env_int("PENDING_IMPORT_MINUTES", 60, minimum=5)
PASSWORD_HISTORY = env_int("PASSWORD_HISTORY", 5, minimum=1)
PASSWORD_MAX_AGE_DAYS = env_int("PASSWORD_MAX_AGE_DAYS", 90, minimum=1)
LOGOUT_REDIRECT_URL = "access:login"

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Vendored front-end packages come from the npm registry at install time (make setup) and are
# served by the app itself: no page loads anything from another host.
STATICFILES_DIRS = [
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules" / "bootstrap-icons" / "font"),
    ("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
# Uploads (meeting attachments, workbooks): a larger POST is refused before its body is read
# (`core/uploads.py`); keep nginx's client_max_body_size a little above it.
UPLOAD_MAX_MB = env_int("UPLOAD_MAX_MB", 20, minimum=1)
# A body other than files (a form's fields, an API call's JSON) is refused above 2.5 MB: the API
# answers 413 JSON. Files above FILE_UPLOAD_MAX_MEMORY_SIZE are spooled to a temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Stored uploads are readable by the app's user only (they are served through the access policy).
FILE_UPLOAD_PERMISSIONS = 0o600
# How long the API keeps the first answer to a POST sent with an Idempotency-Key (`api/idempotency.py`).
IDEMPOTENCY_TTL_HOURS = env_int("IDEMPOTENCY_TTL_HOURS", 24, minimum=1)

# Rules as data: national defaults ship with the code; a deployment may add a file that tightens them.
RULES_OVERRIDE_FILE = os.environ.get("RULES_OVERRIDE_FILE") or None
# Demo log-ins are created only by `manage.py demo`; this password is printed by it.
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "Demo@2026")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    # Each audit checkpoint is also logged (journald under systemd; AUDIT_SYSLOG_ADDRESS adds syslog).
    "loggers": {"dangjian.audit.checkpoint": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
if os.environ.get("AUDIT_SYSLOG_ADDRESS"):
    LOGGING["handlers"]["syslog"] = {"class": "logging.handlers.SysLogHandler",
                                     "address": os.environ["AUDIT_SYSLOG_ADDRESS"]}
    LOGGING["loggers"]["dangjian.audit.checkpoint"]["handlers"].append("syslog")

# Study themes counted as figures of their own in the metric registry (key -> tag text).
ORGLIFE_STUDY_TAG_METRICS = {
    "party_congress_20": "学习贯彻党的二十大精神",
    "party_history": "党史学习教育",
}
