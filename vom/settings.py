"""Settings for VOM, read from the environment (django-environ).

Bad configuration fails at start with a clear message instead of surfacing later
as a confusing error deep in a request.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")


def _env_int(name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    """An integer setting; a value out of range stops the start with a message (never
    silently clamped)."""
    try:
        value = env.int(name, default=default)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {env.str(name)!r}") from exc
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, got {value}")
    return value


def _env_seconds(name: str, default: float, minimum: float = 0.05) -> float:
    try:
        value = env.float(name, default=default)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"{name} must be a number of seconds, got {env.str(name)!r}"
        ) from exc
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def _env_bool(name: str, default: bool) -> bool:
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


DEBUG = _env_bool("DEBUG", False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (or DEBUG=true for development)."
        )
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The address in emails' links: `PORT=8101 make run` serves and links on 8101 unless set.
SITE_URL = env.str(
    "SITE_URL", default=f"http://127.0.0.1:{_env_int('PORT', 8000, minimum=1)}"
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "pgtrigger",
    "vom",  # the project: the demo data of all apps together (seed_demo)
    "participants",
    "meetings",
    "followup",
    "reports",
    "fhir_api",
    "sso",
    "retention",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "vom.middleware.AuthenticationMiddleware",
    "sso.middleware.ProviderSessionMiddleware",
    "vom.middleware.LanguageMiddleware",
    "vom.middleware.ProductErrorPagesMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "vom.middleware.SecurityHeadersMiddleware",
    "vom.middleware.SecondFactorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "vom.urls"
WSGI_APPLICATION = "vom.wsgi.application"

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
                "django.template.context_processors.i18n",
                "participants.context_processors.memberships",
            ],
        },
    },
]

# SQLite keeps `make run` dependency-free; production and CI set DATABASE_URL to PostgreSQL.
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", _env_int("CONN_MAX_AGE", 60))
# A PostgreSQL that hangs or restarts must not hold a page for long (vom/dblimits.py): a
# connection attempt gives up after DB_CONNECT_TIMEOUT seconds, a statement of a web request
# after DB_STATEMENT_TIMEOUT_MS, and the page says the service is unavailable (503). Celery
# tasks get DB_TASK_STATEMENT_TIMEOUT_MS, exports DB_EXPORT_STATEMENT_TIMEOUT_MS; management
# commands (migrate, seed_demo) have no statement limit.
DB_CONNECT_TIMEOUT = _env_int("DB_CONNECT_TIMEOUT", 3, minimum=2)  # libpq's least is 2
DB_STATEMENT_TIMEOUT_MS = _env_int("DB_STATEMENT_TIMEOUT_MS", 15_000, minimum=0)
DB_TASK_STATEMENT_TIMEOUT_MS = _env_int("DB_TASK_STATEMENT_TIMEOUT_MS", 600_000, minimum=0)
DB_EXPORT_STATEMENT_TIMEOUT_MS = _env_int("DB_EXPORT_STATEMENT_TIMEOUT_MS", 300_000, minimum=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiles expensive plans at every execution; for this app's short
    # OLTP queries and report aggregates it costs far more (up to 0.7 s) than it saves.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off"
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "participants.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "participants.auth.UsernameOrEmailBackend",
    "sesame.backends.ModelBackend",
]

# Relatives sign in with a link by email (django-sesame, meetings/relatives.py): valid for
# a week, once; a new one can be asked for at /anhorig/ny-lank/.
SESAME_MAX_AGE = 7 * 24 * 3600
SESAME_ONE_TIME = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    # Stored PDFs go through the storage API so S3-compatible storage can be configured.
    "default": {"BACKEND": env.str("FILE_STORAGE", "django.core.files.storage.FileSystemStorage")},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Every client of Redis (the cache with the sessions' copies, the Celery broker, a result
# backend) waits at most these many seconds to connect and for an answer: a hung Redis
# (accepting, never answering) costs a page one time-out, never a hang. After a failure a
# request does not try again, and after REDIS_BREAKER_FAILURES in a row a process leaves
# Redis alone for REDIS_BREAKER_SECONDS at a time (vom/breaker.py).
REDIS_CONNECT_TIMEOUT = _env_seconds("REDIS_CONNECT_TIMEOUT", 0.5)
REDIS_READ_TIMEOUT = _env_seconds("REDIS_READ_TIMEOUT", 1.0)
REDIS_BREAKER_FAILURES = _env_int("REDIS_BREAKER_FAILURES", 3, minimum=1)
REDIS_BREAKER_SECONDS = _env_seconds("REDIS_BREAKER_SECONDS", 10.0, minimum=0.1)

# A cache shared by every process on the host (computed reports, see reports/cache.py);
# CACHE_URL (e.g. redis://host:6379/1) shares it across hosts.
CACHE_URL = env.str("CACHE_URL", default="")
CACHES = {
    "default": env.cache_url("CACHE_URL")
    if CACHE_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(BASE_DIR / "var" / "cache"),
    }
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "vom.redis_cache.RedisCache"  # one redis-py client per pool

# A cache that every web process on every host shares (Redis or Memcached through
# CACHE_URL): only then may sessions be read from it. A per-process or
# per-host cache (locmemcache://, filecache://) would keep a session alive in one process after a
# logout in another.
SHARED_CACHE = CACHES["default"]["BACKEND"].startswith(
    (
        "django.core.cache.backends.redis.",
        "vom.redis_cache.",
        "django.core.cache.backends.memcached.",
        "django_redis.",
    )
)
# Sessions live in the database so web processes stay stateless; with a shared cache they
# are read from it and written to both (vom.sessions, Django's cached_db made tolerant of
# the cache being down).
SESSION_ENGINE = "vom.sessions" if SHARED_CACHE else "django.contrib.sessions.backends.db"
# How long a session's copy may live in the cache (it is removed at logout; this bounds a
# removal that failed because the cache was unreachable at that moment).
SESSION_CACHE_SECONDS = _env_int("SESSION_CACHE_SECONDS", 300, minimum=1, maximum=3600)
SESSION_COOKIE_AGE = _env_int("SESSION_ABSOLUTE_SECONDS", 12 * 3600, minimum=60)
SESSION_IDLE_SECONDS = _env_int("SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
# Never on: saving on every request would push the expiry forward and undo the absolute limit
# (vom.middleware enforces both limits from the login time kept in the session).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = _env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if not DEBUG else None
SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# The preload directive only has an effect once the operator submits their domain to the
# browsers' list; it is on in production so `check --deploy` is clean and can be turned off.
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# Login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = _env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = _env_int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Failures are counted per account, whatever spelling or the email address was typed
# (participants/lockout.py), and an account tried from many addresses is slowed down:
# past SLOWDOWN_AFTER failures in all it takes one attempt per a doubling wait of at most
# SLOWDOWN_MAX_SECONDS, so nobody can lock a named nurse out for long.
AXES_USERNAME_CALLABLE = "participants.lockout.account_key"
SLOWDOWN_AFTER = _env_int("SLOWDOWN_AFTER", 2 * AXES_FAILURE_LIMIT, minimum=1)
SLOWDOWN_MAX_SECONDS = _env_int("SLOWDOWN_MAX_SECONDS", 60, minimum=1)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False

# Email: console in development, SMTP when EMAIL_URL (e.g. smtp://host:25) is set.
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_TIMEOUT = _env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="VOM <noreply@vom.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Reports (reports/tallies.py): the figures per organisation and month are folded from the
# changes every REPORTS_FOLD_SECONDS ("reports-fold"), so a dashboard shows a change within
# a minute.
REPORTS_FOLD_SECONDS = _env_int("REPORTS_FOLD_SECONDS", 20, minimum=1)

# Background work. With REDIS_URL, Celery uses Redis as broker; without it, tasks run
# in-process so `make run` is a working product on a machine with only Python.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# A web request must never wait on Redis: fail fast and let the outbox sweep catch up
# (the time-outs above; vom.celery.GuardedTask adds the breaker to every publish).
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
    "socket_timeout": REDIS_READ_TIMEOUT,
    "max_retries": 0,
    "visibility_timeout": 3600,
}
# The same for a Redis result backend, should one be configured.
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_READ_TIMEOUT
CELERY_TASK_PUBLISH_RETRY = False
# Task modules beyond each app's tasks.py (which autodiscovery finds).
CELERY_IMPORTS = ["meetings.summary_tasks", "retention.tasks"]
# The outbox (meetings/delivery.py): a sweep every OUTBOX_SWEEP_SECONDS delivers due rows
# (reminders, rows whose task never ran, retries). Under `make run` without Redis the same
# sweep runs in a thread of the runserver process (meetings/scheduler.py).
OUTBOX_SWEEP_SECONDS = _env_int("OUTBOX_SWEEP_SECONDS", 60, minimum=1)
OUTBOX_LEASE_SECONDS = _env_int("OUTBOX_LEASE_SECONDS", 300, minimum=1)
OUTBOX_MAX_ATTEMPTS = _env_int("OUTBOX_MAX_ATTEMPTS", 5, minimum=1)
OUTBOX_RETRY_SECONDS = _env_int("OUTBOX_RETRY_SECONDS", 60, minimum=0)
# Text messages go out through this callable (dotted path, called with number and text);
# empty: no SMS gateway, and a text message is marked not delivered with that reason.
VOM_SMS_BACKEND = env.str("VOM_SMS_BACKEND", default="")
# How long a summary PDF may take to render in its child process.
SUMMARY_RENDER_TIMEOUT = _env_int("SUMMARY_RENDER_TIMEOUT", 30, minimum=1)
CELERY_BEAT_SCHEDULE = {
    # Ended meetings past MEETING_RETENTION_YEARS are anonymised (retention/anonymise.py).
    "anonymise-meetings": {
        "task": "retention.tasks.anonymise_meetings",
        "schedule": 24 * 3600,
        "options": {"expires": 3600},
    },
    "outbox-sweep": {
        "task": "meetings.tasks.sweep_outbox",
        "schedule": OUTBOX_SWEEP_SECONDS,
        # Sweeps queued while no worker ran are dropped; the next one does the same work.
        "options": {"expires": OUTBOX_SWEEP_SECONDS},
    },
    # The report's month tallies, computed again for the months with changes.
    "reports-fold": {
        "task": "reports.tasks.fold_tallies",
        "schedule": REPORTS_FOLD_SECONDS,
        "options": {"expires": REPORTS_FOLD_SECONDS},
    },
    # Every month once a day: decisions past their due date are judged against today.
    "reports-rebuild": {
        "task": "reports.tasks.rebuild_tallies",
        "schedule": 24 * 3600,
        "options": {"expires": 3600},
    },
    # Decisions past their due date: the convener is told once per decision.
    "overdue-decisions": {
        "task": "followup.tasks.notify_overdue_decisions",
        "schedule": 3600,
        "options": {"expires": 3600},
    },
    # Held meetings whose stored summary is behind their content (a render that was lost).
    "summaries-sweep": {
        "task": "meetings.summary_tasks.summaries_sweep",
        "schedule": 600,
        "options": {"expires": 600},
    },
}

# A session signed in through an identity provider is vouched for again after this long: it
# ends and the browser goes back to the provider (which signs a person in whose session
# there is still alive without asking, and refuses one whose roles were taken away).
SSO_RECHECK_SECONDS = _env_int("SSO_RECHECK_SECONDS", 3600, minimum=60)
SSO_RECHECK_SECONDS = min(SSO_RECHECK_SECONDS, 3600)

AUDIT_RETENTION_YEARS = _env_int("AUDIT_RETENTION_YEARS", 5, minimum=5)
# Meetings are health records: kept at least ten years after the last entry (PDL ch. 3 § 17),
# then anonymised (retention/anonymise.py, docs/record-of-processing.md section 6).
MEETING_RETENTION_YEARS = _env_int("MEETING_RETENTION_YEARS", 10, minimum=10)

# Second factor (django-otp TOTP): the name authenticator apps show next to the code.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="VOM")
# Each wrong code doubles the wait before the next try (1 s, 2 s, 4 s, ...).
OTP_TOTP_THROTTLE_FACTOR = _env_int("OTP_TOTP_THROTTLE_FACTOR", 1)

# `make bench` mounts a bare baseline view to compare the product's pages against.
VOM_BENCH = _env_bool("VOM_BENCH", False)

# Tests turn "service missing" into a failure with this (set by .ci/run).
VOM_REQUIRE_SERVICES = _env_bool("VOM_REQUIRE_SERVICES", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
