"""The public pages' cache version: bumped whenever something readers see is saved or deleted.

Cached pages and feeds carry the version in their cache key, so a bump makes them all stale at
once. Queryset `.update()` and `.bulk_create()` send no signals: call `bump_content_version()`
after those.
"""

import time

from django.core.cache import cache

VERSION_KEY = "papers:content-version"


def content_version() -> str:
    """The current version: the time of the last change (as far as this cache knows)."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, f"{time.time():.6f}", None)
        version = cache.get(VERSION_KEY) or f"{time.time():.6f}"
    return version


def bump_content_version() -> None:
    new = f"{time.time():.6f}"
    if new == cache.get(VERSION_KEY):
        new = f"{time.time() + 0.000001:.6f}"
    cache.set(VERSION_KEY, new, None)
