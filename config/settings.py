"""Django settings: everything comes from the environment through this one reader.

FIELDCOLLECT_HOME   data home (default ./var): SQLite database, columnar store, keys
DATABASE_URL        e.g. postgres://user@127.0.0.1:5432/db — switches from SQLite to PostgreSQL
SECRET_KEY          read from the environment or generated once into $FIELDCOLLECT_HOME/keys
DEBUG               "1" to enable debug pages (never in production)
ALLOWED_HOSTS       comma-separated
BANK_TIME_ZONE      the bank's IANA time zone (default TIME_ZONE, Asia/Shanghai): its business day
FIELDCOLLECT_REPAY_URL_TEMPLATE  the bank's official repayment link of a case, e.g.
                    https://pay.bank.example/repay?ref={case_ref} (the collector app shows it and its QR code)
FIELDCOLLECT_ALLOCATION_TIME_LIMIT_S  seconds an allocation run gives CP-SAT when the flow relaxation
                    splits a customer (default 10): then the best whole solution found is kept and the run
                    shows its gap to the relaxation's bound (fieldcollect/optimisation/allocation.py)
MAP_TILES_*         the Leaflet maps' tile provider (URL template, attribution, coordinate system, subdomains,
                    max zoom); none: SVG maps only (fieldcollect/core/maptiles.py)
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import dj_database_url
import plotly

from fieldcollect.home import keys_dir, sqlite_path

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = BASE_DIR / "fieldcollect"


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(*, wait_seconds: float = 5.0) -> str:
    """``SECRET_KEY`` from the environment, else the key generated once into the keys folder.

    The file is created with ``O_EXCL`` and mode 0600 (never readable by others, not even for a
    moment); when two processes start at once, the one whose create fails reads the winner's key
    (waiting briefly for it to be written), so every process signs with the same key."""
    value = env("SECRET_KEY")
    if value:
        return value
    path = keys_dir() / "django_secret_key"
    if not path.exists():
        fresh = secrets.token_urlsafe(50)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except FileExistsError:
            pass  # another process won the race: use its key
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(fresh)
                fh.flush()
                os.fsync(fh.fileno())
            return fresh
    deadline = time.monotonic() + wait_seconds
    while True:
        key = path.read_text().strip()
        if key:
            return key
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} is empty: delete it (a new key is generated) or set SECRET_KEY.")
        time.sleep(0.05)


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = [h for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves the API docs (Swagger UI) from local static files, not a CDN (CSP)
    "fieldcollect.core",
    "fieldcollect.audit",
    "fieldcollect.accounts",
    "fieldcollect.agencies",
    "fieldcollect.portfolio",
    "fieldcollect.cases",
    "fieldcollect.plans",
    "fieldcollect.visits",
    "fieldcollect.outbox",
    "fieldcollect.ops",
    "fieldcollect.scorecards",
    "fieldcollect.allocation",
    "fieldcollect.settlement",
    "fieldcollect.reports",
    "fieldcollect.privacy",
    "fieldcollect.compliance",
    "fieldcollect.earlywarning",
    "fieldcollect.complaints",
    "fieldcollect.caselibrary",
    "fieldcollect.payments",
    "fieldcollect.legal",
    "fieldcollect.qa",
]

MIDDLEWARE = [
    "fieldcollect.ops.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "fieldcollect.core.middleware.NulByteMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "fieldcollect.core.middleware.PageLanguageDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "fieldcollect.core.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_database_url = env("DATABASE_URL")
if _database_url:
    # persistent connections, checked at the start of each request so that a restarted server
    # costs no failed request once it is back
    # (a new connection is a new server process that plans and prepares every statement again:
    # kept for 10 minutes by default, DB_CONN_MAX_AGE)
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=int(env("DB_CONN_MAX_AGE", "600")),
                                                  conn_health_checks=True)}
    if env_bool("DB_PREPARED", True):
        # parameters bound by the server and statements prepared after their 5th run on a connection:
        # PostgreSQL plans the API's statements once per connection instead of on every request
        # (half its CPU time per recorded contact, bench/results/request_cost.json)
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_path()),
            "OPTIONS": {
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
# the bank's business day and the zone of a customer whose own is not known (fieldcollect.core.bank_time)
BANK_TIME_ZONE = env("BANK_TIME_ZONE", TIME_ZONE)
USE_I18N = True
USE_TZ = True
# the bank's official repayment page of a case ({case_ref}: the loan's reference); empty = no link
FIELDCOLLECT_REPAY_URL_TEMPLATE = env("FIELDCOLLECT_REPAY_URL_TEMPLATE", "")
# allocation runs: time limit of the integer step (CP-SAT) when the relaxation splits a customer
FIELDCOLLECT_ALLOCATION_TIME_LIMIT_S = float(env("FIELDCOLLECT_ALLOCATION_TIME_LIMIT_S", "10"))

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [
    PACKAGE_DIR / "static",
    ("vendor/plotly", Path(plotly.__file__).resolve().parent / "package_data"),  # plotly.min.js, served locally
]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# --- security (README "Security") ---
AUTHENTICATION_BACKENDS = ["fieldcollect.accounts.login_security.ThrottledModelBackend"]
# lock-out: this many failures for one username (or from one address) within the window lock it for
# FIELDCOLLECT_LOGIN_LOCKOUT_SECONDS after the last failure
FIELDCOLLECT_LOGIN_MAX_FAILURES = int(env("FIELDCOLLECT_LOGIN_MAX_FAILURES", "5"))
FIELDCOLLECT_LOGIN_MAX_FAILURES_PER_IP = int(env("FIELDCOLLECT_LOGIN_MAX_FAILURES_PER_IP", "20"))
FIELDCOLLECT_LOGIN_WINDOW_SECONDS = int(env("FIELDCOLLECT_LOGIN_WINDOW_SECONDS", "900"))
FIELDCOLLECT_LOGIN_LOCKOUT_SECONDS = int(env("FIELDCOLLECT_LOGIN_LOCKOUT_SECONDS", "900"))
FIELDCOLLECT_2FA_FOR_BANK_ROLES = True  # TOTP after the password for bank roles (accounts/totp.py)
# reverse proxies (comma-separated addresses) whose X-Forwarded-For names the client, for lock-outs
# and API token allow-lists; empty: the peer address is the client
FIELDCOLLECT_TRUSTED_PROXIES = [a.strip() for a in env("TRUSTED_PROXIES").split(",") if a.strip()]

# Cookies carry the Secure flag unless DEBUG (browsers accept Secure cookies from http://localhost and
# http://127.0.0.1, so the local demo works); COOKIES_SECURE=0 only for a plain-HTTP test network.
COOKIES_SECURE = env_bool("COOKIES_SECURE", not DEBUG)
SESSION_COOKIE_SECURE = COOKIES_SECURE
CSRF_COOKIE_SECURE = COOKIES_SECURE
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # pages pass the token in the form or in hx-headers, never read the cookie
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(env("SESSION_COOKIE_AGE", str(12 * 3600)))
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "0"))  # set behind TLS, e.g. 31536000
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
if env_bool("SECURE_PROXY_SSL", False):  # behind a TLS-terminating proxy that sets X-Forwarded-Proto
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy (core/middleware.py): only this origin's scripts; the one inline handler the
# pages use (select onchange="this.form.submit()") is allowed by its hash; Plotly and htmx inject styles.
FIELDCOLLECT_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "'unsafe-hashes'", "'sha256-osjxnKEPL/pQJbFk1dKsF7PYFmTyMWGmVSiL9inhxJY='"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# The tile provider of the Leaflet maps (fieldcollect/core/maptiles.py); its hosts are added to img-src
# by the CSP middleware. E.g. Amap (GCJ-02):
#   MAP_TILES_URL=https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}
#   MAP_TILES_SUBDOMAINS=1234 MAP_TILES_SYSTEM=gcj02 MAP_TILES_ATTRIBUTION="© AutoNavi"
MAP_TILES = {
    "url": env("MAP_TILES_URL"),
    "attribution": env("MAP_TILES_ATTRIBUTION"),
    "system": env("MAP_TILES_SYSTEM", "wgs84"),
    "subdomains": env("MAP_TILES_SUBDOMAINS"),
    "max_zoom": env("MAP_TILES_MAX_ZOOM", "18"),
}
FIELDCOLLECT_PERMISSIONS_POLICY = "camera=(), microphone=(), payment=(), usb=(), geolocation=(self)"
# the collector's phone app (/app/) takes the position, records the visit and takes photos: this origin only
FIELDCOLLECT_APP_PERMISSIONS_POLICY = "camera=(self), microphone=(self), payment=(), usb=(), geolocation=(self)"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # customer link tokens are redacted from every line (fieldcollect.ops.redact), runserver's too
    "formatters": {
        "redacted": {"()": "fieldcollect.ops.logging.RedactingFormatter"},
        "django.server": {"()": "fieldcollect.ops.logging.RedactingServerFormatter",
                          "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "redacted"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server", "level": "INFO"},
    },
    "loggers": {
        "django": {"handlers": [], "level": "INFO"},  # through the root's redacting handler only
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}
