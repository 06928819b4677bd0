"""MetroLab settings: one module, everything that varies between machines read from the environment.

Environment variables (see docs/operations.md):
- ``METROLAB_ENV``: ``development`` (default, used by the demo) or ``production``.
- ``DATABASE_URL``: defaults to SQLite at ``var/metrolab.sqlite3`` (WAL); ``postgres://...`` works.
- ``SECRET_KEY``: required in production; generated into ``var/secret_key`` otherwise.
- ``ALLOWED_HOSTS``: comma-separated; production only (development allows loopback names).
- ``METROLAB_VAR_DIR``: where the database, keys, uploads and collected static files live.
"""

import os
import secrets
import sys
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("METROLAB_VAR_DIR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

METROLAB_ENV = os.environ.get("METROLAB_ENV", "development").strip().lower()
if METROLAB_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("METROLAB_ENV must be 'development' or 'production'")
PRODUCTION = METROLAB_ENV == "production"
TESTING = "pytest" in sys.modules or os.environ.get("METROLAB_TESTING") == "1"


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when METROLAB_ENV=production")
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("DEBUG", "").lower() in {"1", "true", "yes"} and not PRODUCTION

if PRODUCTION:
    ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when METROLAB_ENV=production")
else:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
    ALLOWED_HOSTS += [
        h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()
    ]
# The site's public address (e.g. https://lab.example.cn): absolute links in notifications,
# on receipts and in label QR codes (metrolab.commissions.links).
METROLAB_SITE_URL = os.environ.get("METROLAB_SITE_URL", "").strip().rstrip("/")
# Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses); none by default.
METROLAB_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("METROLAB_TRUSTED_PROXIES", "").split(",") if p.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "metrolab.core",
    "metrolab.calculator",
    "metrolab.customers",
    "metrolab.commissions",
    "metrolab.items",
    "metrolab.tasks",
    "metrolab.notifications",
    "metrolab.methods",
    "metrolab.equipment",
    "metrolab.qualifications",
    "metrolab.risk",
    "metrolab.environment",
    "metrolab.records",
    "metrolab.certificates",
    "metrolab.instruments",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "metrolab.core.apps.TasksDatabaseConfig",  # django_tasks_db, named in Chinese
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "metrolab.core.middleware.RequestContextMiddleware",
    "metrolab.core.middleware.ApiErrorShapeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "metrolab.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Before any view reads the body (CSRF reads it in process_view, after every __call__).
    "metrolab.core.request_limits.RequestSizeLimitMiddleware",
    "metrolab.core.idempotency.IdempotencyMiddleware",
    "metrolab.core.access.AccessPolicyMiddleware",
]
FILE_UPLOAD_HANDLERS = [
    "metrolab.core.request_limits.FileNameLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- API (django-ninja) ----
# Bounded limit / offset on every list (metrolab/core/api_contract.py).
NINJA_PAGINATION_CLASS = "metrolab.core.api_contract.Pagination"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "metrolab.core.context_processors.navigation",
            ],
        },
    },
]

# Forms render a field's length limit as data-maxlength, not maxlength: browsers cut pasted
# text at maxlength without a word; the server refuses it with a message instead (R7.2).
FORM_RENDERER = "metrolab.core.forms.FormRenderer"

# --- Database ----
DEFAULT_SQLITE = f"sqlite:///{VAR_DIR / 'metrolab.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "").strip() or DEFAULT_SQLITE, conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock when a
    # transaction starts, so concurrent writers queue instead of failing half-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # A file (not :memory:) so that several processes can share the test database.
    # One file per test run, so that runs side by side do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
# PostgreSQL: a pool of connections per server process (psycopg 3's pool, `psycopg[pool]`)
# instead of one new connection per request: on by default in production, elsewhere with
# METROLAB_DB_POOL=1 (METROLAB_DB_POOL=0 turns it off); METROLAB_DB_POOL_MIN / _MAX bound its
# size (docs/operations.md).
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and os.environ.get(
    "METROLAB_DB_POOL", "1" if PRODUCTION else ""
).strip().lower() in {"1", "true", "yes"}:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("METROLAB_DB_POOL_MIN", "2")),
        "max_size": int(os.environ.get("METROLAB_DB_POOL_MAX", "8")),
        "timeout": 10,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication ----
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["metrolab.core.auth.ThrottledModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "core:login"
# Sign-in throttling (R7.2a; metrolab/core/signin.py, docs/operations.md "Sign-in throttling"):
# failures from one address (any accounts) and against one account (from the addresses that
# failed) before delays start; the first delay, doubling up to the maximum; counts forgotten
# this long after the last failure or delay; failed sign-ins summarised in the audit log per
# client address and window.
METROLAB_SIGNIN_ADDRESS_THRESHOLD = int(os.environ.get("METROLAB_SIGNIN_ADDRESS_THRESHOLD", "20"))
METROLAB_SIGNIN_ACCOUNT_THRESHOLD = int(os.environ.get("METROLAB_SIGNIN_ACCOUNT_THRESHOLD", "5"))
METROLAB_SIGNIN_DELAY_SECONDS = int(os.environ.get("METROLAB_SIGNIN_DELAY_SECONDS", "60"))
METROLAB_SIGNIN_MAX_DELAY_SECONDS = int(os.environ.get("METROLAB_SIGNIN_MAX_DELAY_SECONDS", "900"))
METROLAB_SIGNIN_FORGET_SECONDS = int(os.environ.get("METROLAB_SIGNIN_FORGET_SECONDS", "3600"))
METROLAB_SIGNIN_AUDIT_WINDOW_SECONDS = int(
    os.environ.get("METROLAB_SIGNIN_AUDIT_WINDOW_SECONDS", "3600")
)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "true").lower() != "false"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Internationalisation ----
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "metrolab" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = VAR_DIR / "files"  # outside the web root: served only through permission-checked views
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Backups and audit anchors (R7.2b/c) ----
# The backup location: keep it on other storage than the database (another disk or machine).
# The worker appends the audit chain's head to the anchor file there every hour and at each
# verification; `metrolab audit verify` checks the chain against every line.
METROLAB_BACKUP_DIR = Path(os.environ.get("METROLAB_BACKUP_DIR", VAR_DIR / "backup")).resolve()
METROLAB_AUDIT_ANCHOR_FILE = Path(
    os.environ.get("METROLAB_AUDIT_ANCHOR_FILE", METROLAB_BACKUP_DIR / "audit-anchors.jsonl")
).resolve()
METROLAB_AUDIT_ANCHOR_SECONDS = int(os.environ.get("METROLAB_AUDIT_ANCHOR_SECONDS", "3600"))

# --- Certificate signing keys (R6.3e) ----
# `metrolab pki init` creates a demo lab CA and signing key here (never committed: var/ is
# ignored). Production points METROLAB_SIGNING_P12 at an issued PKCS#12 file and
# METROLAB_SIGNING_CA_CERT at the PEM of the root(s) verification trusts (several may be
# concatenated, e.g. after a key change). METROLAB_TSA_URL adds an RFC 3161 time-stamp.
METROLAB_PKI_DIR = Path(os.environ.get("METROLAB_PKI_DIR", VAR_DIR / "pki")).resolve()
METROLAB_SIGNING_P12 = Path(
    os.environ.get("METROLAB_SIGNING_P12", METROLAB_PKI_DIR / "signing.p12")
).resolve()
METROLAB_SIGNING_P12_PASSWORD = os.environ.get(
    "METROLAB_SIGNING_P12_PASSWORD", "" if PRODUCTION else "metrolab-demo"
)
METROLAB_SIGNING_CA_CERT = Path(
    os.environ.get("METROLAB_SIGNING_CA_CERT", METROLAB_PKI_DIR / "lab-ca.pem")
).resolve()
# A key on a PKCS#11 token (hardware token / HSM) instead of the PKCS#12 file: the module is the
# path of the token's PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so; empty = sign with
# METROLAB_SIGNING_P12), the token's label, the label of the signing key and of its certificate
# on the token (both carry the same label; `metrolab pki to-token` puts a PKCS#12 key there),
# and the token's user PIN (from the environment only). The lab CA still comes from
# METROLAB_SIGNING_CA_CERT. Each process keeps one session open and reopens it on failure.
METROLAB_SIGNING_PKCS11_MODULE = os.environ.get("METROLAB_SIGNING_PKCS11_MODULE", "").strip()
METROLAB_SIGNING_PKCS11_TOKEN = os.environ.get("METROLAB_SIGNING_PKCS11_TOKEN", "").strip()
METROLAB_SIGNING_PKCS11_KEY = os.environ.get("METROLAB_SIGNING_PKCS11_KEY", "").strip()
METROLAB_SIGNING_PKCS11_PIN = os.environ.get("METROLAB_SIGNING_PKCS11_PIN", "")
METROLAB_TSA_URL = os.environ.get("METROLAB_TSA_URL", "").strip()
# The PEM root(s) of the TSA's certificate: with it, signing embeds the validation data of the
# signer and the time-stamp (PAdES-B-LT) and verification checks the time-stamp's chain.
METROLAB_TSA_CA_CERT = os.environ.get("METROLAB_TSA_CA_CERT", "").strip()
# The public verification (R9.1, /verify/ and /api/v1/public/certificates/): verifications per
# client address per minute (counted in Django's cache: share it between server processes).
METROLAB_CERTIFICATE_VERIFY_PER_MINUTE = int(
    os.environ.get("METROLAB_CERTIFICATE_VERIFY_PER_MINUTE", "10")
)
# The public commission status query (R6.1b, /commissions/status/): the same kind of limit.
METROLAB_STATUS_QUERY_PER_MINUTE = int(os.environ.get("METROLAB_STATUS_QUERY_PER_MINUTE", "10"))

# --- Certificate numbers and identifiers (R6.3d) ----
# The number rule: a str.format pattern with {prefix} (per kind, below), {year}, {yy},
# {month} and {seq} (one counter per prefix and year), e.g. "{prefix}{year}-{seq:06d}" →
# JD2026-000123. The identifier is "<METROLAB_CERTIFICATE_ID_PREFIX>-<year>-<seq7>-<check>".
METROLAB_CERTIFICATE_NUMBER = os.environ.get(
    "METROLAB_CERTIFICATE_NUMBER", "{prefix}{year}-{seq:06d}"
)
METROLAB_CERTIFICATE_PREFIXES = {
    "verification": os.environ.get("METROLAB_CERTIFICATE_PREFIX_VERIFICATION", "JD"),
    "verification_fail": os.environ.get("METROLAB_CERTIFICATE_PREFIX_VERIFICATION_FAIL", "JT"),
    "calibration": os.environ.get("METROLAB_CERTIFICATE_PREFIX_CALIBRATION", "JZ"),
    "test": os.environ.get("METROLAB_CERTIFICATE_PREFIX_TEST", "JC"),
    "inspection": os.environ.get("METROLAB_CERTIFICATE_PREFIX_INSPECTION", "JY"),
}
METROLAB_CERTIFICATE_ID_PREFIX = os.environ.get("METROLAB_CERTIFICATE_ID_PREFIX", "ML")

# --- Background tasks (django.tasks) ----
TASKS = {
    "default": {
        "BACKEND": os.environ.get("METROLAB_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# WhiteNoise hands the ASGI handler file iterators; Django warns that it adapts them (harmless).
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous")
# pyHanko imports cryptography's DSA types, which warn on import; the lab never signs with DSA
# (EC P-256 or RSA keys), and the warning's first line would stand in every command's output.
warnings.filterwarnings("ignore", message="DSA is deprecated", module="pyhanko")

# --- E-mail (notifications, R6.1c) ----
# SMTP to METROLAB_SMTP_HOST (production default: localhost:25); the demo writes mail to the
# console log instead.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "MetroLab <noreply@localhost>")
if os.environ.get("METROLAB_SMTP_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["METROLAB_SMTP_HOST"],
                "port": int(os.environ.get("METROLAB_SMTP_PORT", "25")),
                "username": os.environ.get("METROLAB_SMTP_USER", ""),
                "password": os.environ.get("METROLAB_SMTP_PASSWORD", ""),
                "use_tls": os.environ.get("METROLAB_SMTP_TLS", "").lower() in {"1", "true"},
                "timeout": 10,
            },
        }
    }
elif PRODUCTION:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "localhost", "port": 25, "timeout": 10},
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
# The demo's simulated instruments (`metrolab instruments-simulate`, started by `metrolab
# demo`): on HOST, the calibrator at PORT, the DMM at PORT+1, the pressure controller (Modbus
# TCP) at PORT+2, the temperature bath (serial over TCP) at PORT+3. The demo's equipment
# connections are set to these at every `metrolab demo`.
METROLAB_DEMO_INSTRUMENTS_HOST = os.environ.get("METROLAB_DEMO_INSTRUMENTS_HOST", "127.0.0.1")
METROLAB_DEMO_INSTRUMENTS_PORT = int(os.environ.get("METROLAB_DEMO_INSTRUMENTS_PORT", "15025"))

# SMS and WeChat gateways (HTTP adapters; see metrolab/notifications/channels.py).
METROLAB_SMS_GATEWAY_URL = os.environ.get("METROLAB_SMS_GATEWAY_URL", "")
METROLAB_SMS_GATEWAY_KEY = os.environ.get("METROLAB_SMS_GATEWAY_KEY", "")
METROLAB_WECHAT_GATEWAY_URL = os.environ.get("METROLAB_WECHAT_GATEWAY_URL", "")
METROLAB_WECHAT_GATEWAY_KEY = os.environ.get("METROLAB_WECHAT_GATEWAY_KEY", "")

# --- Logging ----
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # A 4xx (a 403 from the access policy, ...) is one line, not a traceback.
    "filters": {"one_line_client_errors": {"()": "metrolab.core.log.OneLineClientErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["one_line_client_errors"]},
    },
}

# Tests may lift the audit triggers around `flush` (which empties every table between
# transactional tests); nothing else may.
METROLAB_FLUSH_LIFTS_AUDIT_GUARDS = TESTING and not PRODUCTION
