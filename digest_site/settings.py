"""Settings, read from the environment. Every variable is optional; see the README's table.

A variable with a bad value stops start-up with ImproperlyConfigured naming it.
"""

import os
import tempfile
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()


def _setting(name: str, parse, default):
    """Read one variable with `parse`; any parse failure names the variable."""
    raw = env.str(name, default=None)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except Exception as exc:  # noqa: BLE001 - any parse error becomes a start-up error
        raise ImproperlyConfigured(f"Setting {name}={raw!r} is invalid: {exc}") from exc


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true/false, 1/0, yes/no or on/off")


def _choice(*choices: str):
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return raw

    return parse


def _url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return raw.rstrip("/")


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _database(raw: str) -> dict:
    scheme = raw.split("://", 1)[0]
    if scheme not in environ.Env.DB_SCHEMES:
        raise ValueError(f"unknown database scheme {scheme!r}, e.g. postgres:// or sqlite:///")
    config = environ.Env.db_url_config(raw)
    if not config.get("ENGINE"):
        raise ValueError("unknown database scheme")
    return config


def _redis(raw: str) -> str:
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("expected a redis:// URL")
    return raw


DEBUG = _setting("DJANGO_DEBUG", _bool, False)
SECRET_KEY = _setting("DJANGO_SECRET_KEY", str, "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Setting DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off "
            "(the Makefile's targets set a local one for this machine)"
        )
    SECRET_KEY = "insecure-debug-only-key"
ALLOWED_HOSTS = _setting(
    "DJANGO_ALLOWED_HOSTS",
    lambda raw: [h.strip() for h in raw.split(",") if h.strip()],
    ["127.0.0.1", "localhost", "[::1]", "testserver"],
)
CSRF_TRUSTED_ORIGINS = _setting(
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    lambda raw: [h.strip() for h in raw.split(",") if h.strip()],
    [],
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "taggit",
    "django_celery_beat",
    "simple_history",
    "papers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "digest_site.middleware.SiteLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    # Below ConditionalGetMiddleware, so the ETag is that of the page as sent.
    "digest_site.middleware.StripBidiControlsMiddleware",
    "digest_site.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "digest_site.urls"
WSGI_APPLICATION = "digest_site.wsgi.application"

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
                "papers.public.context_processors.site",
            ],
        },
    },
]

DATA_DIR = BASE_DIR / "data"
DATABASES = {
    "default": _setting(
        "DATABASE_URL",
        _database,
        {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "db.sqlite3"},
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Keep connections between requests (a new one costs milliseconds), checked before reuse.
    # DATABASE_URL's `?conn_max_age=` option wins.
    DATABASES["default"].setdefault("CONN_MAX_AGE", 600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Tests on a file, not in memory: a worker thread then waits for locks instead of failing.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"digest-test-{os.getpid()}.sqlite3")
    }
    if str(DATABASES["default"]["NAME"]).startswith(str(DATA_DIR)):
        DATA_DIR.mkdir(exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "papers" / "static_site"]
MEDIA_URL = "/media/"
MEDIA_ROOT = _setting("MEDIA_ROOT", Path, BASE_DIR / "media")
# PDFs and figure crops: never served as plain files; figures go out through a view that checks
# the paper's licence (arXiv's terms).
PRIVATE_MEDIA_ROOT = _setting("PRIVATE_MEDIA_ROOT", Path, DATA_DIR / "private")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "papers.storage.PrivateStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_MANIFEST_STRICT = False

# Security headers for production; HTTPS-only flags follow DJANGO_SECURE_SSL (default on unless DEBUG).
SECURE_SSL = _setting("DJANGO_SECURE_SSL", _bool, not DEBUG)
SECURE_SSL_REDIRECT = SECURE_SSL and _setting("DJANGO_SECURE_SSL_REDIRECT", _bool, True)
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_HSTS_SECONDS = 31536000 if SECURE_SSL else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL
SECURE_HSTS_PRELOAD = SECURE_SSL
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts, styles and fonts only from this site (KaTeX included); inline style attributes are
# allowed because KaTeX lays out formulas with them. Figures kept by URL may live elsewhere.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: https:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Celery: with REDIS_URL a real broker and workers; without, tasks run in-process.
REDIS_URL = _setting("REDIS_URL", _redis, "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
# Longer than the longest task, so Redis never redelivers a task that is still running.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_DEFAULT_QUEUE = "digest"

# Shared by the web server, workers and commands, so an edit anywhere invalidates cached pages.
CACHES = {
    "default": (
        {
            "BACKEND": "digest_site.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that is down or hung costs a page a moment, then it is served uncached.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": DATA_DIR / "cache",
        }
    )
}

# arXiv and the pipeline.
ARXIV_API_URL = _setting("ARXIV_API_URL", _url, "https://export.arxiv.org/api/query")
ARXIV_OAI_URL = _setting("ARXIV_OAI_URL", _url, "https://oaipmh.arxiv.org/oai")
ARXIV_DELAY_SECONDS = _setting("ARXIV_DELAY_SECONDS", _non_negative_float, 3.0)
ARXIV_CONTACT = _setting("ARXIV_CONTACT", str, "")
ARXIV_TIMEOUT_SECONDS = _setting("ARXIV_TIMEOUT_SECONDS", _non_negative_float, 30.0)
# The arXiv turn's lock lives this long unless its holder, alive, keeps renewing it.
ARXIV_LOCK_TIMEOUT_SECONDS = _setting("ARXIV_LOCK_TIMEOUT_SECONDS", _positive_int, 10)
ARXIV_PAGE_SIZE = _setting("ARXIV_PAGE_SIZE", _positive_int, 100)
# Attempts per request on 5xx answers and time-outs, with exponential back-off and jitter.
ARXIV_RETRIES = _setting("ARXIV_RETRIES", _positive_int, 4)
ARXIV_BACKOFF_SECONDS = _setting("ARXIV_BACKOFF_SECONDS", _non_negative_float, 5.0)
# A topic's first run looks this many days back.
FETCH_WINDOW_DAYS = _setting("FETCH_WINDOW_DAYS", _positive_int, 3)
PDF_MAX_BYTES = _setting("PDF_MAX_BYTES", _positive_int, 50 * 1024 * 1024)
MAX_FIGURES_PER_PAPER = _setting("MAX_FIGURES_PER_PAPER", _positive_int, 12)

# Summaries.
# The summarizer backends the code has; topics and the SUMMARIZER setting choose among them.
SUMMARIZERS = ("extractive", "openai")
SUMMARIZER = _setting("SUMMARIZER", _choice(*SUMMARIZERS), "extractive")
LLM_BASE_URL = _setting("LLM_BASE_URL", _url, "https://api.openai.com/v1")
LLM_API_KEY = _setting("LLM_API_KEY", str, "")
LLM_MODEL = _setting("LLM_MODEL", str, "gpt-4o-mini")
LLM_TIMEOUT = _setting("LLM_TIMEOUT", _non_negative_float, 120.0)
LLM_MAX_INPUT_TOKENS = _setting("LLM_MAX_INPUT_TOKENS", _positive_int, 12000)
SUMMARY_LANGUAGE = _setting("SUMMARY_LANGUAGE", _choice("en", "zh"), "en")
if SUMMARIZER == "openai" and not LLM_API_KEY and "api.openai.com" in LLM_BASE_URL:
    raise ImproperlyConfigured("Setting LLM_API_KEY is required when SUMMARIZER=openai")

SITE_NAME = _setting("SITE_NAME", str, "arXiv Daily Digest")
# Where the site's source is offered (AGPL-3.0); unset, the site serves its own source at /source/.
SOURCE_CODE_URL = _setting("SOURCE_CODE_URL", _url, "")

TAGGIT_CASE_INSENSITIVE = True
# Django 6's default for URL fields in forms (the admin's link fields).
FORMS_URLFIELD_ASSUME_HTTPS = True
LOGIN_URL = "admin:login"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# E-mail: EMAIL_URL (smtp://user:password@host:587, smtp+tls://..., smtp+ssl://..., consolemail://)
# or the usual EMAIL_* variables; without either, mails are printed to the console.
EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 65536:
        raise ValueError("expected a port number")
    return value


def _email_backend(raw: str) -> str:
    if raw in EMAIL_BACKENDS:
        return EMAIL_BACKENDS[raw]
    if "." not in raw:
        raise ValueError(f"expected one of {', '.join(EMAIL_BACKENDS)} or a dotted path")
    return raw


def _email_address(raw: str) -> str:
    if "@" not in raw:
        raise ValueError("expected an e-mail address, e.g. Digest <digest@example.org>")
    return raw


_EMAIL_URL = _setting("EMAIL_URL", environ.Env.email_url_config, None)
if _EMAIL_URL:
    EMAIL_BACKEND = _EMAIL_URL["EMAIL_BACKEND"]
    EMAIL_HOST = _EMAIL_URL["EMAIL_HOST"] or "localhost"
    EMAIL_PORT = _EMAIL_URL["EMAIL_PORT"] or 25
    EMAIL_HOST_USER = _EMAIL_URL["EMAIL_HOST_USER"] or ""
    EMAIL_HOST_PASSWORD = _EMAIL_URL["EMAIL_HOST_PASSWORD"] or ""
    EMAIL_USE_TLS = bool(_EMAIL_URL.get("EMAIL_USE_TLS"))
    EMAIL_USE_SSL = bool(_EMAIL_URL.get("EMAIL_USE_SSL"))
    if _EMAIL_URL["EMAIL_FILE_PATH"]:
        EMAIL_FILE_PATH = _EMAIL_URL["EMAIL_FILE_PATH"]
else:
    EMAIL_HOST = _setting("EMAIL_HOST", str, "localhost")
    EMAIL_PORT = _setting("EMAIL_PORT", _port, 25)
    EMAIL_HOST_USER = _setting("EMAIL_HOST_USER", str, "")
    EMAIL_HOST_PASSWORD = _setting("EMAIL_HOST_PASSWORD", str, "")
    EMAIL_USE_TLS = _setting("EMAIL_USE_TLS", _bool, False)
    EMAIL_USE_SSL = _setting("EMAIL_USE_SSL", _bool, False)
    # Naming a mail server is enough to send through it.
    EMAIL_BACKEND = _setting(
        "EMAIL_BACKEND",
        _email_backend,
        EMAIL_BACKENDS["smtp" if env.str("EMAIL_HOST", default="") else "console"],
    )
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Settings EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on")
# Without a time-out a stalled mail server would hang a worker for good.
EMAIL_TIMEOUT = _setting("EMAIL_TIMEOUT", _non_negative_float, 30.0) or None
DEFAULT_FROM_EMAIL = _setting(
    "DEFAULT_FROM_EMAIL", _email_address, f"{SITE_NAME} <digest@localhost>"
)
# Absolute links in mails.
SITE_URL = _setting("SITE_URL", _url, "http://127.0.0.1:8000")
MAIL_RATE_PER_MINUTE = _setting("MAIL_RATE_PER_MINUTE", _positive_int, 60)
MAIL_BATCH_SIZE = _setting("MAIL_BATCH_SIZE", _positive_int, 50)
MAIL_MAX_FAILURES = _setting("MAIL_MAX_FAILURES", _positive_int, 3)
SUBSCRIBE_THROTTLE_PER_HOUR = _setting("SUBSCRIBE_THROTTLE_PER_HOUR", _positive_int, 10)
SUBSCRIPTION_CONFIRM_MAX_AGE_DAYS = _setting("SUBSCRIPTION_CONFIRM_MAX_AGE_DAYS", _positive_int, 7)
