"""Shared fixtures. Tests that need a service skip without it, and fail instead when CI=true."""

import os
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(available: bool, what: str) -> None:
    """Skip (locally) or fail (in CI) a test whose service is missing."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true")
    pytest.skip(f"{what} is not available")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    """The Redis this run uses: REDIS_URL, else the machine's default one if it answers."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        ok = True
    except redis.RedisError:
        ok = False
    require(ok, f"Redis at {url}")
    return url


@pytest.fixture
def postgres(db) -> None:
    """For tests of PostgreSQL-only behaviour. The deliberate SQLite run (TEST_DATABASE=sqlite) skips."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    if os.environ.get("TEST_DATABASE") == "sqlite":
        pytest.skip("this run is the SQLite run")
    require(False, "PostgreSQL (set DATABASE_URL)")


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser).

    Module-scoped: Playwright's sync API keeps an event loop running in this thread while it is
    open, which Django takes for an async context; the database calls of the same module's tests
    are allowed meanwhile, and other modules run with the loop gone.
    """
    available = os.path.exists(CHROMIUM)
    require(available, f"Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory):
    """Files written by a test go to a throw-away folder, never the project's media/."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    settings.PRIVATE_MEDIA_ROOT = tmp_path_factory.mktemp("private")


@pytest.fixture
def fake_arxiv(settings):
    """A local arXiv API server; settings point the pipeline at it, with no waiting."""
    from tests.arxiv_server import FakeArxiv

    with FakeArxiv() as server:
        settings.ARXIV_API_URL = server.api_url
        settings.ARXIV_OAI_URL = server.url + "/oai"
        settings.ARXIV_DELAY_SECONDS = 0
        settings.ARXIV_BACKOFF_SECONDS = 0.01
        settings.ARXIV_TIMEOUT_SECONDS = 2
        yield server


@pytest.fixture(autouse=True)
def _celery_in_process():
    """Tasks queued by code under test run at once, whatever REDIS_URL says; worker tests opt out."""
    from digest_site.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(autouse=True)
def _no_outside_network(settings):
    """Nothing in a test may reach the real arXiv or an LLM: unless a test points them at its own
    local server, they point at a closed local port and fail at once."""
    closed = "http://127.0.0.1:9"
    settings.ARXIV_API_URL = closed + "/api/query"
    settings.ARXIV_OAI_URL = closed + "/oai"
    settings.LLM_BASE_URL = closed + "/v1"
    settings.ARXIV_BACKOFF_SECONDS = 0.01
    settings.ARXIV_DELAY_SECONDS = 0


@pytest.fixture(autouse=True)
def _plain_http_and_static(settings):
    """Tests speak plain HTTP to the test client and need no collectstatic run."""
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Each test starts with an empty cache of its own (never the project's Redis or files)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def live_site(transactional_db, settings, live_server):
    """The live server on plain HTTP, for browser tests: no HTTPS redirect, no secure cookies.

    The live server is started once per session with the real settings' middleware, which reads
    some of them once; it is rebuilt here so this test's settings apply.
    """
    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 0
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    handler = live_server.thread.httpd.get_app()
    while handler is not None:
        if hasattr(handler, "load_middleware"):
            handler.load_middleware()
        handler = getattr(handler, "application", None)
    return live_server


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's default language: a request a test client made in another
    language would otherwise leave it active in this thread, and `reverse()` would follow it."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def fake_llm(settings):
    """A local OpenAI-compatible server; settings point the summarizer at it."""
    from tests.llm_server import FakeLlm

    server = FakeLlm().start()
    settings.LLM_BASE_URL = server.url
    settings.LLM_API_KEY = "test-key"
    settings.LLM_MODEL = "test-model"
    settings.LLM_TIMEOUT = 5
    yield server
    server.stop()
