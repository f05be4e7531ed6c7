"""Django settings. Every value comes from the environment, with defaults for the embedded mode.

See ``docs/operations.md`` for the full list of variables.
"""

import json
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.database import database_settings
from config.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var")).resolve()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)


def _secret_key() -> str:
    if os.environ.get("DJANGO_SECRET_KEY"):
        return os.environ["DJANGO_SECRET_KEY"]
    # A per-checkout key, made once, so sessions survive restarts without a value to configure.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],.localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
# Tenants may be reached as <slug>.<TENANT_BASE_DOMAIN>, e.g. demo.localhost:8000.
TENANT_BASE_DOMAIN = os.environ.get("TENANT_BASE_DOMAIN", "localhost")
PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://localhost:8000")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_celery_beat",
    "axes",
    "tenants",
    "metadata",
    "records",
    "api",
    # After api: its graphql_schema command (per tenant) overrides graphene-django's.
    "graphene_django",
    "workflows",
    "ui_builder",
    # The consultant studio at /studio/ (ui_builder/studio/).
    "wagtail.admin",
    "wagtail.users",
    "wagtail.documents",  # the admin's scripts expect them (no menu without permissions)
    "wagtail.images",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_jsonform",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.request_logging.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "api.middleware.ApiTokenMiddleware",
    "tenants.middleware.TenantMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "tenants.context_processors.current_tenant",
                "ui_builder.context_processors.navigation",
            ],
        },
    },
]

DATABASES = database_settings(os.environ, VAR_DIR)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tenants.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Opens the studio to the tenant's consultants (the configure permission).
    "ui_builder.studio.access.StudioAccessBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "tenants:login"
LOGIN_REDIRECT_URL = "tenants:home"

AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "tenants/locked_out.html"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (file fields, records/files.py): kept through Django's storage API under
# MEDIA_ROOT, never served from it directly (downloads check permissions: ui_builder/files.py).
# FILE_STORAGE_BACKEND names another storage class (an S3 one, say) taking the same place.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media")).resolve()
MEDIA_URL = "/media/"  # not routed: files are served by the download view only
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    "files": {
        "BACKEND": os.environ.get(
            "FILE_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
        ),
        # That class's options as JSON, e.g. {"bucket_name": "crm-files"} for an S3 storage.
        "OPTIONS": json.loads(os.environ.get("FILE_STORAGE_OPTIONS") or "{}"),
    },
}
# The largest file any file field takes, in MB: a field's max_size_mb may not exceed it.
FILE_MAX_SIZE_MB = float(os.environ.get("FILE_MAX_SIZE_MB", "25"))

# Celery: with CELERY_BROKER_URL unset, kombu's filesystem transport carries tasks between
# processes through files under VAR_DIR/broker; a real worker still runs them.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
BROKER_DIR = Path(os.environ.get("CELERY_BROKER_DIR", VAR_DIR / "broker"))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # How long an idle worker sleeps before looking at the folder again (kombu: 1 s, which
        # is then the delay of every workflow action; bench/README.md "Workflow delivery").
        "polling_interval": float(os.environ.get("CELERY_BROKER_POLLING_INTERVAL", "0.1")),
    }
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    _default_results = f"file://{VAR_DIR / 'celery-results'}"
    (VAR_DIR / "celery-results").mkdir(parents=True, exist_ok=True)
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    _default_results = CELERY_BROKER_URL
else:
    _default_results = "rpc://"
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", _default_results)
CELERY_TASK_ALWAYS_EAGER = False
# Celery's Django fix-up closes the database connection around every task unless told how many
# tasks one may serve: a new connection per task halved the workers' throughput (bench). Tasks
# set their tenant per transaction, so nothing carries over from one task to the next.
CELERY_DB_REUSE_MAX = int(os.environ.get("CELERY_DB_REUSE_MAX", "1000"))
# The queue tasks go to and workers read (the test suite gives each run a queue of its own).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Workflows (workflows/): attempts before an event goes to the dead-letter list, the first
# retry's delay (doubling after), and how late a pending event may be before the beat's sweep
# hands it to the broker again.
WORKFLOW_MAX_ATTEMPTS = int(os.environ.get("WORKFLOW_MAX_ATTEMPTS", "5"))
WORKFLOW_RETRY_BASE_S = int(os.environ.get("WORKFLOW_RETRY_BASE_S", "10"))
WORKFLOW_SWEEP_GRACE_S = int(os.environ.get("WORKFLOW_SWEEP_GRACE_S", "60"))
CELERY_BEAT_SCHEDULE = {
    "workflows-sweep-outbox": {
        "task": "workflows.tasks.sweep_outbox",
        "schedule": float(os.environ.get("WORKFLOW_SWEEP_EVERY_S", "30")),
    },
    "workflows-escalations": {
        "task": "workflows.tasks.escalate_approvals",
        "schedule": float(os.environ.get("WORKFLOW_SCHEDULES_EVERY_S", "60")),
    },
    "workflows-schedules": {
        "task": "workflows.tasks.run_schedules",
        "schedule": float(os.environ.get("WORKFLOW_SCHEDULES_EVERY_S", "60")),
    },
    # Files no record holds any more (records/files.py), as `manage.py clean_files` does.
    "records-clean-files": {
        "task": "records.tasks.clean_files",
        "schedule": float(os.environ.get("FILE_CLEAN_EVERY_H", "24")) * 3600,
    },
}
# A date-relative automation ("3 days before close_date") fires for moments that passed at
# most this long ago: a new automation does not fire for every old record.
WORKFLOW_SCHEDULE_LOOKBACK_H = int(os.environ.get("WORKFLOW_SCHEDULE_LOOKBACK_H", "24"))
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# E-mail (workflow notifications): SMTP when EMAIL_HOST names a server; otherwise each message
# is written as a file under EMAIL_FILE_PATH, so a machine without a mail server still delivers
# its workflows instead of retrying them into the dead-letter list.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "crm@localhost")

LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL)

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# GraphQL limits (docs/graphql.md): nesting depth and the time any one SQL statement may take.
# The consultant studio (Wagtail admin at /studio/).
WAGTAIL_SITE_NAME = os.environ.get("STUDIO_TITLE", "CRM studio")
WAGTAILADMIN_BASE_URL = os.environ.get("PUBLIC_URL", "http://localhost:8000")
WAGTAILADMIN_LOGIN_URL = "tenants:login"
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False

GRAPHQL_MAX_DEPTH = int(os.environ.get("GRAPHQL_MAX_DEPTH", "8"))
GRAPHQL_STATEMENT_TIMEOUT_MS = int(os.environ.get("GRAPHQL_STATEMENT_TIMEOUT_MS", "5000"))
GRAPHQL_MAX_COST = int(os.environ.get("GRAPHQL_MAX_COST", "50000"))
GRAPHQL_RATE_PER_MINUTE = int(os.environ.get("GRAPHQL_RATE_PER_MINUTE", "600"))
# Answer the queries the configuration's types allow with one SQL statement building the JSON
# (api/schema/compiled); "0" sends every request through the resolvers.
GRAPHQL_COMPILED = os.environ.get("GRAPHQL_COMPILED", "1") != "0"

# A shared cache (API rate limits) when CACHE_URL names Redis; per process otherwise.
if os.environ.get("CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
        }
    }
