"""The public pages' cache: rendered pages kept for anonymous readers until the next bump of
the content version (papers.content); a cached page is stored with the version it was rendered
at, so a bump makes them all stale at once.
"""

import functools
import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import get_language

from papers.content import VERSION_KEY, content_version

# Browsers may keep a page this long without asking again.
BROWSER_SECONDS = 60
log = logging.getLogger(__name__)


def page_cache_seconds() -> int:
    """How long a rendered page is kept. A per-process cache cannot see changes made by other
    processes (management commands, workers), so it keeps pages only briefly."""
    backend = settings.CACHES["default"]["BACKEND"]
    return 60 if backend.endswith("LocMemCache") else 60 * 60


def page_key(address: str, language: str | None) -> str:
    """The cache key of a page: its full address in one interface language."""
    return f"page:{language}:{hashlib.sha256(address.encode()).hexdigest()}"


def validators(version: str, key: str) -> tuple[str, str]:
    """(ETag, Last-Modified) of the page `key` at `version`: known before the page is read."""
    etag = '"' + hashlib.sha256(f"{version}|{key}".encode()).hexdigest()[:32] + '"'
    return etag, http_date(float(version))


def cached_page(view):
    """Keep rendered GET answers for anonymous readers until the content version changes.

    A hit costs one cache round trip (the version and the page together) and answers the stored
    body as one piece. A conditional request is answered from the version alone, before the page
    is read or rendered. When the cache fails, pages are served uncached.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or settings.SESSION_COOKIE_NAME in request.COOKIES:
            return view(request, *args, **kwargs)
        key = page_key(request.build_absolute_uri(), get_language())
        conditional = (
            "HTTP_IF_NONE_MATCH" in request.META or "HTTP_IF_MODIFIED_SINCE" in request.META
        )
        try:
            if conditional:
                version, stored = cache.get(VERSION_KEY), None
            else:
                found = cache.get_many([VERSION_KEY, key])
                version, stored = found.get(VERSION_KEY), found.get(key)
            version = version or content_version()
            if version is None:
                return view(request, *args, **kwargs)
        except Exception:  # noqa: BLE001 - any cache failure: serve the page uncached
            log.warning("page cache unavailable; serving uncached", exc_info=True)
            return view(request, *args, **kwargs)
        etag, last_modified = validators(version, key)
        if conditional:
            answer = get_conditional_response(request, etag=etag, last_modified=int(float(version)))
            if answer is not None and answer.status_code == 304:
                return _with_validators(answer, etag, last_modified)
            try:
                stored = cache.get(key)
            except Exception:  # noqa: BLE001
                return view(request, *args, **kwargs)
        if stored is not None and stored[0] == version:
            _version, content_type, body = stored
            return _with_validators(
                HttpResponse(body, content_type=content_type), etag, last_modified
            )
        response = view(request, *args, **kwargs)
        if getattr(response, "is_rendered", True) is False:
            response.render()
        if response.status_code != 200 or response.streaming or response.cookies:
            return response
        body = response.content
        try:
            cache.set(key, (version, response["Content-Type"], body), page_cache_seconds())
        except Exception:  # noqa: BLE001
            log.warning("page cache unavailable; page not kept", exc_info=True)
        return _with_validators(response, etag, last_modified)

    return wrapper


def _with_validators(response: HttpResponse, etag: str, last_modified: str) -> HttpResponse:
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = last_modified
    response.headers["Cache-Control"] = f"public, max-age={BROWSER_SECONDS}"
    return response
