"""The one settings module. Every value comes from the environment; see deploy/env.example."""

from pathlib import Path

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from .env import (
    env_bool,
    env_choice,
    env_database,
    env_email_backend,
    env_float,
    env_half_life_overrides,
    env_int,
    env_list,
    env_networks,
    env_pkcs12,
    env_secret,
    env_secret_value,
    env_str,
    env_time_zone,
    env_url,
)
from .sentry import sentry_init
from .storage import media_storages

BASE_DIR = Path(__file__).resolve().parent.parent


def _site_folder(name: str) -> Path:
    """templates/ or static/: inside this package in an installed copy (setup.py puts them
    there), at the top of the checkout otherwise."""
    installed = Path(__file__).resolve().parent / name
    return installed if installed.is_dir() else BASE_DIR / name


TEMPLATES_DIR = _site_folder("templates")
SITE_STATIC_DIR = _site_folder("static")
VAR_DIR = Path(env_str("ALPHARELEASE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=true for a local development site."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    # Before django.contrib.auth, so that its createsuperuser (refused: use create_admin,
    # which leaves an audit event) takes the place of Django's.
    "qc",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_prometheus",
    "batches",
]
# bench-api's plain DRF create (bench/plaindrf/), the baseline the record path is measured
# against. Off in every deployment; only the bench turns it on for its own gunicorn.
BENCH_PLAIN_DRF = env_bool("ALPHARELEASE_BENCH_PLAIN_DRF", False)
if BENCH_PLAIN_DRF:
    INSTALLED_APPS += ["rest_framework.authtoken", "bench.plaindrf"]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "batches.operations.requests.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "qc.middleware.DatabaseUnavailableMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "qc.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [TEMPLATES_DIR],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "qc.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'alpharelease.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several writers (web, in-process tasks) share one file: wait rather than fail. The
    # write-ahead log lets pages read while a task writes, and with synchronous=NORMAL a
    # commit waits for no disk flush (a power cut can lose the last commits, never corrupt
    # the file): `make demo` migrates and seeds about a third faster.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20, "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
else:
    # Parameters sent apart from the SQL (server-side binding), and a statement prepared the
    # fifth time a connection runs it (psycopg's prepare_threshold, which Django turns off
    # unless it is set), so PostgreSQL stops parsing and planning the same queries on every
    # request (bench-api, A/B on the same machine: server-side binding 84 -> 113 single
    # results/s).
    # `?prepare_threshold=off` in DATABASE_URL turns preparing off (a pooler in transaction
    # mode that cannot keep prepared statements); `?prepare_threshold=N` changes the count.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
    # A prepared statement gets a generic plan from its sixth run when PostgreSQL judges it
    # no worse: the write path (the same statements on every request) is planned once. The
    # page reads that find a few batches by status among years of them are planned for their
    # values each run instead (config.sql.planned_for_values).
    # A database host that drops packets fails a connection in 10 s instead of the system's
    # TCP timeout (minutes): the page says so, and a worker puts its task back (task_base).
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login lockout (EU GMP Annex 11 cl. 12): after AXES_FAILURE_LIMIT failures the
# account and address are locked until an administrator resets them.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = None
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# django-axes' own login logs are purged after this many days (daily beat task); the audit
# trail's login events are GMP records and are kept.
LOGIN_RECORDS_RETENTION_DAYS = env_int("LOGIN_RECORDS_RETENTION_DAYS", 400, minimum=30)
# Reverse proxies in front of the app (1 behind the nginx of deploy/): the client address
# of login records and the lockout is taken from X-Forwarded-For through exactly that many.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "qc.client_address.client_ip"
AXES_USERNAME_CALLABLE = "qc.client_address.login_username"
# Electronic signature lockout: consecutive wrong passwords at signing.
SIGNATURE_FAILURE_LIMIT = env_int("SIGNATURE_FAILURE_LIMIT", 5, minimum=1)

SESSION_IDLE_TIMEOUT_S = env_int("SESSION_IDLE_TIMEOUT_S", 15 * 60, minimum=60)
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# TLS: production sets these (deploy/env.example); off by default so the demo and the tests
# run over plain http. Probes reach gunicorn directly and are never redirected.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy: scripts and styles only from this site's static files (htmx is
# vendored); the few inline blocks (API docs, admin list) carry the request's nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en-gb")
# Whether people type a decimal comma ("1,2 GBq"), as in most of continental Europe; by
# default it follows the language. Forms and the API's unit parsing accept it when set.
DECIMAL_COMMA = env_bool("DECIMAL_COMMA", LANGUAGE_CODE.split("-")[0].lower() in (
    "de", "fr", "nl", "it", "es", "pt", "pl", "cs", "da", "sv", "fi", "nb", "no", "ru", "tr"))
USE_I18N = False
USE_TZ = True
TIME_ZONE = env_time_zone("TIME_ZONE", "Europe/Amsterdam")

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [SITE_STATIC_DIR]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = media_storages()
# Raw data and certificates are not world-readable (group: the web and worker service user).
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750

# Celery: without a broker, tasks run in process (the embedded default).
CELERY_TASK_ALWAYS_EAGER = not env_str("CELERY_BROKER_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "memory://localhost/"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_TASK_EAGER_PROPAGATES = True
# A web request that queues work after its commit tries the broker once, briefly: with the
# broker down, kombu's default reconnection loop held each request ~6 s per message, while
# the sweeps queue the work again anyway (batches.jobs).
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2,
                                   "interval_max": 0.2}
# Beat: any number of hosts may run the beat unit; a Redis lock lets exactly one send.
CELERY_BEAT_SCHEDULER = "batches.operations.beat:LockedScheduler"
BEAT_LOCK_URL = env_str("BEAT_LOCK_URL") or CELERY_BROKER_URL
BEAT_LOCK_TTL_S = env_int("BEAT_LOCK_TTL_S", 30, minimum=6)
# A worker that cannot reach the database waits this long, holding one task, before it puts
# the task back on the queue (config.task_base), so it does not drain the queue meanwhile.
DATABASE_OUTAGE_PAUSE_S = env_float("DATABASE_OUTAGE_PAUSE_S", 10.0, minimum=0.1, maximum=60.0)

# Outgoing mail: the post-release out-of-specification alert to QA and the QP.
EMAIL_BACKEND = env_email_backend("EMAIL_BACKEND",
                                  "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "alpharelease@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are both true; STARTTLS (port "
                               "587) is EMAIL_USE_TLS, implicit TLS (port 465) is EMAIL_USE_SSL.")

# Site identity, printed on every certificate.
SITE_NAME = env_str("SITE_NAME", "alpharelease demo radiopharmacy")
SITE_ADDRESS = env_str("SITE_ADDRESS", "Hot-cell wing, 1 Isotope Lane, 1000 AA Amsterdam, NL")
SITE_LOT_PREFIX = env_str("SITE_LOT_PREFIX", "AR")
# The public address of this site: the QR code on a certificate opens its verify page here.
# Without it (and without DEBUG) certificates carry no QR code; `manage.py check` says so.
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "")
CERTIFICATE_PAPER = env_choice("CERTIFICATE_PAPER", "A4", ("A4", "Letter"))
# The signing identity: a PKCS#12 file at SIGNING_P12_PATH, or the file itself in base64 from
# a secret setting, SIGNING_P12_BASE64 (or SIGNING_P12_BASE64_FILE); then SIGNING_P12_PATH is
# "" and SIGNING_P12_DATA holds its bytes. The passphrase: SIGNING_P12_PASSPHRASE or
# SIGNING_P12_PASSPHRASE_FILE (Docker and Kubernetes secrets).
SIGNING_P12_PATH, SIGNING_P12_DATA = env_pkcs12(
    "SIGNING_P12_PATH", "SIGNING_P12_BASE64", str(VAR_DIR / "signing" / "site-signing.p12"))
SIGNING_P12_PASSPHRASE = env_secret_value("SIGNING_P12_PASSPHRASE")
SIGNING_TSA_URL = env_str("SIGNING_TSA_URL") or None
# Signed checkpoints of the audit chain head, one file each, never overwritten: mount a
# place the database owner cannot rewrite (see deploy/README.md).
AUDIT_CHECKPOINT_DIR = Path(env_str("AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit-checkpoints")))

# Nuclear data: ICRP-107 from radioactivedecay; a site may override half-lives,
# e.g. "Ac-225=9.920d" (current evaluation). Certificates name the choice.
DECAY_HALF_LIFE_OVERRIDES = env_half_life_overrides("DECAY_HALF_LIFE_OVERRIDES")

RAW_DATA_MAX_BYTES = env_int("RAW_DATA_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
MEASURED_AT_CLOCK_SKEW_S = env_int("MEASURED_AT_CLOCK_SKEW_S", 120, minimum=0)
# A batch may hold at most this much (%) more activity than its source decay-corrected to
# EOS, and an elution this much more than its generator's ingrowth (calibrator uncertainty).
SOURCE_ACTIVITY_TOLERANCE_PERCENT = env_int("SOURCE_ACTIVITY_TOLERANCE_PERCENT", 5, minimum=0)
# A pending certificate is queued again after this long, and alerts past the second limit.
CERTIFICATE_REQUEUE_AFTER_S = env_int("CERTIFICATE_REQUEUE_AFTER_S", 180, minimum=10)
CERTIFICATE_ALERT_AFTER_S = env_int("CERTIFICATE_ALERT_AFTER_S", 900, minimum=60)
# A worker that claimed a certificate and went silent is taken over after this long.
CERTIFICATE_CLAIM_TIMEOUT_S = env_int("CERTIFICATE_CLAIM_TIMEOUT_S", 120, minimum=5)
# How often beat sweeps for work a lost message left behind (results, certificates).
SWEEP_INTERVAL_S = env_int("SWEEP_INTERVAL_S", 60, minimum=1)

# Operations: /readyz gives each dependency this long; /metrics answers only these
# addresses (REMOTE_ADDR as gunicorn sees it: behind nginx that is the proxy, so nginx must
# keep /metrics internal) or a client sending the bearer token.
READINESS_TIMEOUT_S = env_float("READINESS_TIMEOUT_S", 2.0, minimum=0.1, maximum=30)
METRICS_ALLOWED_NETWORKS = env_networks("METRICS_ALLOWED_IPS")
METRICS_BEARER_TOKEN = env_secret("METRICS_BEARER_TOKEN", min_length=32)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "alpharelease API",
    "DESCRIPTION": "Quality control and batch release of alpha-emitter radiopharmaceuticals.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# One JSON object a line, times in UTC, with the request id (web, worker and beat alike:
# config/celery.py hands Celery's logging to this). LOG_FORMAT=text for a terminal.
LOG_FORMAT = env_choice("LOG_FORMAT", "json", ("json", "text"))
# The level is the handler's too: Django's own loggers (django.request's 4xx warnings) set
# their level themselves and would otherwise pass a root level of ERROR.
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "batches.operations.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "batches.operations.logs.UtcJsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["request_id"], "level": LOG_LEVEL}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# Error reporting: off unless SENTRY_DSN is set.
SENTRY_DSN = env_str("SENTRY_DSN")
SENTRY_ENABLED = sentry_init(
    dsn=SENTRY_DSN, environment=env_str("SENTRY_ENVIRONMENT", "production"),
    traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0, minimum=0.0, maximum=1.0),
    release=env_str("SENTRY_RELEASE", "alpharelease"))
