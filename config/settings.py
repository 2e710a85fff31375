"""Consentry settings: one module, driven by the environment.

Every variable read here is listed in README.md ("Configuration") with its default.
Safe defaults: DEBUG is off, and outside `make run` and the tests a SECRET_KEY must be
given. Configuration invariants that can be checked at start-up are Django system checks
(see consent/checks.py), so `manage.py check --deploy` tells an operator what is wrong.
"""

import os
import sys
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as default_cors_headers
from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

from consent.languages import VISITOR_LANGUAGES

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# pytest (or `manage.py test`) sets this up; tests get fast hashing, immediate tasks and
# no HTTPS redirects, but otherwise the production code paths.
TESTING = "pytest" in sys.modules or sys.argv[1:2] == ["test"]

DEBUG = env.bool("DEBUG", default=False)
# The demo shop (/demo/: a stand-in customer page, fake trackers) is routed only with DEBUG or
# DEMO on (`make run` and the tests); a production deployment never serves it.
DEMO = env.bool("DEMO", default=DEBUG or TESTING)

SECRET_KEY = env.str("SECRET_KEY", default="")
# Commands that never sign anything may run without one (e.g. in a build step or a hook).
KEYLESS_COMMANDS = {"makemigrations", "check", "collectstatic", "help", "consent_db_roles"}
if not SECRET_KEY:
    if not (DEBUG or TESTING or sys.argv[1:2] and sys.argv[1] in KEYLESS_COMMANDS):
        raise ImproperlyConfigured(
            "SECRET_KEY is required. Set it in the environment (any long random string), "
            "or use `make run` for a local development server."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105

_local_hosts = ["localhost", "127.0.0.1", "[::1]"]
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=_local_hosts if (DEBUG or TESTING) else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "consent",
    "subprocessors",
    "cookies",
    "demo",
]

MIDDLEWARE = [
    # CORS first (django-cors-headers: above anything that can answer, WhiteNoise and
    # CommonMiddleware included), so preflights, errors and 500s on the public paths carry it too.
    "edge.cors.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Per-address limits on every public path (PUBLIC_RATE_PATHS), before any other work.
    "edge.limits.PublicRateLimitMiddleware",
    # Session, locale, CSRF, auth and messages stay out of PUBLIC_PATH_PREFIXES (edge/middleware.py).
    "edge.middleware.PublicSessionMiddleware",
    "edge.middleware.PublicLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "edge.middleware.PublicCsrfViewMiddleware",
    "edge.middleware.PublicAuthenticationMiddleware",
    # A logged-in user's back-office language (stored on the user) over the cookie's.
    "consent.tenancy.language.AdminLanguageMiddleware",
    "edge.middleware.PublicMessageMiddleware",
    # The CSP of HTML pages; before XFrameOptionsMiddleware, whose header sets frame-ancestors.
    "edge.csp.HtmlContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost: a fault on the APIs or the loader becomes a JSON 500 with an error id.
    "edge.middleware.ApiFaultMiddleware",
]

# Anonymous, cookie-less, cross-origin endpoints: no session, CSRF, auth or locale there.
PUBLIC_PATH_PREFIXES = ("/api/public/", "/c/", "/log/")

# --- CORS (django-cors-headers) -------------------------------------------------------
# Only the public paths answer CORS: the public API, the loader, and the sub-processor feed.
# No origin is allowed by configuration: consent.sites.cors (a check_request_enabled receiver)
# allows a site's registered origins on the paths that name that site, and any origin on the
# read-only public documents (CORS_ANY_ORIGIN_URLS_REGEX), answered as `*` (edge/cors.py).
CORS_URLS_REGEX = r"^/(api/public/|c/|log/|s/[^/]+/subprocessors/feed\.atom$)"
CORS_ANY_ORIGIN_URLS_REGEX = (
    r"^/api/public/v1/(receipts/|promises/|jurisdictions(/|$)|sites/[^/]+/(checkpoints|policies|subprocessors)(/|$))"
    r"|^/s/[^/]+/subprocessors/feed\.atom$|^/log/"
)
CORS_ALLOWED_ORIGINS: list[str] = []
CORS_ALLOW_CREDENTIALS = False  # never: the public paths are cookie-less by design
CORS_ALLOW_METHODS = ("GET", "OPTIONS", "POST")
CORS_ALLOW_HEADERS = (*default_cors_headers, "idempotency-key")
# Readable by the banner: Retry-After on 429 and 503, the ETag it revalidates the config with.
CORS_EXPOSE_HEADERS = ("Retry-After", "ETag")
CORS_PREFLIGHT_MAX_AGE = 600
# The library's defaults, stated: it reads these settings (and, eagerly, each one's pre-4.0
# alias) on every response, and a setting that is not defined costs a raised AttributeError
# each time, which showed in the consent POST's profile.
CORS_ALLOW_ALL_ORIGINS = False
CORS_ALLOWED_ORIGIN_REGEXES: list[str] = []
CORS_ALLOW_PRIVATE_NETWORK = False
CORS_ORIGIN_ALLOW_ALL = False
CORS_ORIGIN_WHITELIST: list[str] = []
CORS_ORIGIN_REGEX_WHITELIST: list[str] = []

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# The embedded default is SQLite in WAL mode: readers never block the writer, and the
# busy timeout makes concurrent writers queue instead of failing with "database is locked".
# IMMEDIATE transactions take the write lock up front, so a read-then-write transaction
# cannot deadlock against another writer half-way through.
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
}
# PostgreSQL with two roles (README "What each database guarantees"): DATABASE_URL is the
# application's role (web servers, workers, the sealer), DATABASE_OWNER_URL the role that owns
# the tables. `migrate` connects as the owner when it is set, and grants the application its
# share as it ends (consent.dbroles); nothing else needs the owner.
DATABASE_OWNER_URL = env.str("DATABASE_OWNER_URL", default="")
_postgresql = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
DATABASE_OWNER = env.db_url_config(DATABASE_OWNER_URL) if DATABASE_OWNER_URL and _postgresql else {}
DATABASE_APP_USER = DATABASES["default"].get("USER", "")
OWNER_COMMANDS = {"migrate"}
if DATABASE_OWNER and sys.argv[1:2] and sys.argv[1] in OWNER_COMMANDS:
    DATABASES["default"] = {**DATABASES["default"], **DATABASE_OWNER}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
            ),
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------
# Redis when configured (shared by every app server: rate limits and cached banner
# config must agree across machines); process-local memory otherwise.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="consentry"),
            "TIMEOUT": 300,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "consentry",
        }
    }

# --- Auth -----------------------------------------------------------------------------
# The model backend behind a failed-login limit (consent/tenancy/auth.py).
AUTHENTICATION_BACKENDS = ["consent.tenancy.auth.ThrottledModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Every language we ship a catalogue for (locale/<code>/LC_MESSAGES/django.po): the banner's
# 32+, every EU official language, ru, kk, ar and he (right to left). The admin offers them all
# (a switcher in its header); a site enables the ones its visitors are served in.
LANGUAGES = list(VISITOR_LANGUAGES.items())
LOCALE_PATHS = [BASE_DIR / "locale"]
# The admin's language switcher keeps the choice in this cookie for a year (Django's default
# would forget it when the browser closes).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files -----------------------------------------------------------------------
# whitenoise serves content-hashed files with far-future cache headers, brotli and gzip.
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Files the platform writes (consent exports); never served publicly, only through the admin.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")

# --- Email ------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL", default="consolemail://" if (DEBUG or TESTING) else "smtp://localhost:25"
)
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Consentry <consentry@localhost>")

# --- Security -----------------------------------------------------------------------------
# Production defaults are strict; `make run` (DEBUG) and the tests relax only what needs
# HTTPS. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO.
_secure = not (DEBUG or TESTING)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_secure)
# Load balancers probe over plain HTTP; a redirect would mark a healthy server as down.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if _secure else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_secure)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_secure)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_secure)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every HTML page (django-csp 4 settings format; edge/csp.py): scripts,
# styles, fetches and frames from our own origin only, no inline script or style (a response that
# needs one uses request.csp_nonce), nothing may frame a page unless its view allows SAMEORIGIN.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF, CSP_NONCE],
        "style-src": [CSP_SELF, CSP_NONCE],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "frame-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_NONE],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    },
}
_proxy_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = (_proxy_header, "https")

# --- Jurisdiction resolution ------------------------------------------------------------
# Country and region come from a trusted edge header first (e.g. Cloudflare's), then the
# GeoIP database, then the site's default. The headers are trusted only when configured:
# GEO_COUNTRY_HEADER set in the environment (to its default name too), or
# GEO_TRUSTED_PROXY_COUNT > 0. Otherwise they are ignored (a visitor could pick their own
# jurisdiction by sending one) and `check --deploy` says so (consentry.E013). The tests
# count as configured; `make run` and the browser suite set GEO_COUNTRY_HEADER.
GEO_COUNTRY_HEADER = env.str("GEO_COUNTRY_HEADER", default="CF-IPCountry")
GEO_REGION_HEADER = env.str("GEO_REGION_HEADER", default="CF-Region-Code")
GEO_TRUSTED_PROXY_COUNT = env.int("GEO_TRUSTED_PROXY_COUNT", default=0)
GEO_COUNTRY_HEADER_EXPLICIT = "GEO_COUNTRY_HEADER" in os.environ or TESTING
GEOIP_DATABASE_PATH = env.str("GEOIP_DATABASE_PATH", default="")

# --- Consent ledger -------------------------------------------------------------------------
# Ed25519 seed (32 bytes, base64) that signs ledger checkpoints. `make run` generates one
# into var/; tests use a fixed one. Keep it secret and stable: verifiers pin its public key.
LEDGER_SIGNING_KEY = env.str(
    "LEDGER_SIGNING_KEY",
    default="Y29uc2VudHJ5LXRlc3Qtc2lnbmluZy1rZXktMzJieXQ=" if TESTING else "",
)
# Public keys (base64, comma-separated) of earlier signing keys: after a rotation the
# checkpoints they signed still verify (consent_verify, receipts). Public, not secret.
LEDGER_RETIRED_PUBLIC_KEYS = env.list("LEDGER_RETIRED_PUBLIC_KEYS", default=[])
# Witnesses whose C2SP cosignatures the checkpoints accept (comma-separated verifier keys,
# `<name>+<hash>+<base64(0x04 || Ed25519 key)>`, as `consentry-witness --generate-key` prints).
LEDGER_WITNESS_KEYS = env.list("LEDGER_WITNESS_KEYS", default=[])
# The maximum merge delay each receipt's signed inclusion promise states: a record is in the
# signed log within this many seconds of its time, or the promise is broken (consent_verify
# --promises, the receipt page). Keep it well above the sealer's interval.
LEDGER_MERGE_DELAY_SECONDS = env.int("LEDGER_MERGE_DELAY_SECONDS", default=300)
# Requests per window on the consent write path, per client address and per site.
CONSENT_RATE_PER_IP = env.str("CONSENT_RATE_PER_IP", default="60/min")
CONSENT_RATE_PER_SITE = env.str("CONSENT_RATE_PER_SITE", default="20000/min")
# With Redis, how often (seconds) each process adds its consent rate-limit counts to the
# shared ones and learns the totals (edge.ratelimit); 0: on every request.
RATE_LIMIT_SYNC_SECONDS = env.float("RATE_LIMIT_SYNC_SECONDS", default=0.25)
# Largest consent body accepted, in bytes (a real choice is well under 2 KB).
CONSENT_MAX_BODY_BYTES = env.int("CONSENT_MAX_BODY_BYTES", default=8192)

# A CSRF refusal under /api/ answers in the JSON error shape (edge/errors.py).
CSRF_FAILURE_VIEW = "edge.errors.csrf_failure"

# --- APIs ---------------------------------------------------------------------------------
# Requests per API token (management API), on the shared limiter; nginx limits per address too.
API_TOKEN_RATE = env.str("API_TOKEN_RATE", default="600/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Tokens first: their Bearer challenge makes an anonymous call a 401, not a 403. The
        # admin's session also reaches the API (a logged-in person, within their roles).
        "consent.tokens.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "edge.errors.api_exception_handler",
    # `?format=` is ours (e.g. the consent export's csv|jsonl), not DRF's renderer switch.
    "URL_FORMAT_OVERRIDE": None,
    # No DRF throttles: edge.limits.PublicRateLimitMiddleware limits the public paths.
    "DEFAULT_THROTTLE_CLASSES": [],
    # The OpenAPI contract (drf-spectacular): the error responses are added per operation.
    "DEFAULT_SCHEMA_CLASS": "edge.schema.ApiAutoSchema",
}
# The contract at /api/schema/ (committed as docs/openapi.yaml, `make openapi`), its docs page
# at /api/docs/ with Swagger UI served from our static files (the sidecar), never a CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "Consentry API",
    "DESCRIPTION": (
        "The public API the banner and anyone else may call (no credentials, rate-limited per "
        "client address) and the management API (HTTP Basic or a session; roles per site). "
        'Every error is `{"error": {"code", "message", "fields"}}`. '
        "The webhooks a site may subscribe to, with their bodies, are under `x-webhooks`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/(public/)?v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The banner's actions keep their name; the subset the site's systems may record has its own.
    "ENUM_NAME_OVERRIDES": {
        "ActionEnum": "consent.ledger.validation.ACTIONS",
        "BackendActionEnum": "consent.subjects.validation.BACKEND_ACTIONS",
        "CollectionMethodEnum": "consent.models.CollectionMethod",
        "DataSubjectRequestTypeEnum": "consent.models.requests.RequestType.choices",
        "DataSubjectRequestStatusEnum": "consent.models.requests.RequestStatus.choices",
        "RequesterLanguageEnum": "consent.requests.api.REQUESTER_LANGUAGES",
    },
    # The two hot public paths are plain Django views (not DRF): described by schema-only views.
    "PREPROCESSING_HOOKS": ["config.openapi.plain_view_endpoints"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.path_parameter_examples",
        "config.openapi.webhooks_extension",
    ],
    # Every webhook event and its body (consent/webhooks/openapi.py).
    "WEBHOOKS": "consent.webhooks.openapi.EVENT_WEBHOOKS",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# Requests per client address to the public (unauthenticated) endpoints, by limit name, on the
# one limiter (edge.ratelimit: counted per process, shared through Redis every
# RATE_LIMIT_SYNC_SECONDS, per process while Redis is down). Rates: "<n>/<unit>", unit s, min,
# h, day, optionally with a multiple ("5/15min").
PUBLIC_API_RATE = env.str("PUBLIC_API_RATE", default="600/min")
PUBLIC_RATE_LIMITS = {
    "banner": env.str("PUBLIC_BANNER_RATE", default="600/min"),  # /config and the loader /c/<key>.js
    "api": PUBLIC_API_RATE,  # every other GET of /api/public/
    "pages": env.str("PUBLIC_PAGES_RATE", default="120/min"),  # receipt, policy, sub-processor pages, forms
    # The log's checkpoint and tiles (/log/<key>/): a witness or mirror reads many tiles at once.
    "log": env.str("PUBLIC_LOG_RATE", default="3000/min"),
    # Filing a data-subject request over the API: each sends an email (the form has its own, 10/hour).
    "requests": env.str("PUBLIC_REQUESTS_RATE", default="10/hour"),
}
# Which limit each public path counts against: (regex on the path, limit name, how a 429 is
# written: json | html | js); the first match wins. None: no limit here (the consent POST has
# its own, CONSENT_RATE_PER_IP and CONSENT_RATE_PER_SITE, checked in its view).
PUBLIC_RATE_PATHS = [
    (r"/api/public/v1/sites/[^/]+/consents$", None, "json"),
    (r"/api/public/v1/sites/[^/]+/config$", "banner", "json"),
    (r"/api/public/v1/sites/[^/]+/requests$", "requests", "json"),
    (r"/api/public/", "api", "json"),
    (r"/c/", "banner", "js"),
    (r"/log/", "log", "json"),
    (r"/(r|s)/", "pages", "html"),
]
# Failed logins (admin and the management API's Basic auth) allowed per window, per client
# address and per username; beyond them a login is refused before its password is hashed.
LOGIN_FAILURES_PER_ADDRESS = env.str("LOGIN_FAILURES_PER_ADDRESS", default="10/15min")
LOGIN_FAILURES_PER_USERNAME = env.str("LOGIN_FAILURES_PER_USERNAME", default="5/15min")

# --- Background tasks ---------------------------------------------------------------------
# Django's Tasks API (the django-tasks backport). "database" stores tasks in the database and
# `manage.py db_worker` runs them (make run starts one); "immediate" runs them inline, as the
# tests do. A dotted path to another backend class is accepted too.
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
TASKS_BACKEND = env.str("TASKS_BACKEND", default="immediate" if TESTING else "database")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS.get(TASKS_BACKEND, TASKS_BACKEND)}}

# --- Public links ---------------------------------------------------------------------------
# Emails and webhooks are sent by background tasks, which have no request to build links
# from: this is the scheme and host the public pages are served on.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The first part of every log's origin line and key name (`<this>/consentry/<site_key>`), as
# C2SP checkpoints name their log: a host (and path) without scheme. It must never change for a
# running log, so it is its own setting, defaulting to PUBLIC_BASE_URL's host.
LEDGER_LOG_HOST = env.str("LEDGER_LOG_HOST", default=PUBLIC_BASE_URL.split("://", 1)[-1])
# Attempts per event and endpoint: the first and its retries after 1 min, 5 min, 30 min, 2 h,
# 6 h and 24 h (consent.webhooks.services).
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=7)
# How old a consent record must be before the dispatcher announces it: the bound on late commits
# (consent.webhooks.dispatch).
WEBHOOK_SETTLE_SECONDS = env.float("WEBHOOK_SETTLE_SECONDS", default=5)
# Days a delivered (or given up) webhook event keeps its data for redelivery; then only the row
# and its delivery log stay (the data copies ledger records, visitor ids included).
WEBHOOK_EVENT_RETENTION_DAYS = env.int("WEBHOOK_EVENT_RETENTION_DAYS", default=30)
# The DPO's queue (consent/requests): an open request due within this many days is "due soon"
# (amber in the admin, a request.due_soon webhook); its DPOs are emailed a reminder at each of
# these numbers of days before its due date, once each.
REQUEST_DUE_SOON_DAYS = env.int("REQUEST_DUE_SOON_DAYS", default=3)
REQUEST_REMINDER_DAYS = tuple(int(day) for day in env.list("REQUEST_REMINDER_DAYS", default=["7", "2"]))

# --- Logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # An account id in a management API path never reaches a log line (edge/logs.py).
    "filters": {"subject_paths": {"()": "edge.logs.SubjectPathFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["subject_paths"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
