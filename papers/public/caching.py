"""The public pages' cache version: bumped whenever something readers see is saved or deleted.

Cached pages and feeds carry the version in their cache key, so a bump makes them all stale at
once. Queryset `.update()` and `.bulk_create()` send no signals: call `bump_content_version()`
after those.
"""

import logging
import time

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

VERSION_KEY = "papers:content-version"
# What a cache that cannot be reached raises (Redis down, a file cache on a full disk).
CACHE_ERRORS = (RedisError, OSError)


def content_version() -> str | None:
    """The current version: the time of the last change (as far as this cache knows).

    None when the cache cannot be reached: pages are then served uncached.
    """
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, f"{time.time():.6f}", None)
            version = cache.get(VERSION_KEY) or f"{time.time():.6f}"
    except CACHE_ERRORS as exc:
        logger.warning("The page cache is unavailable, serving uncached: %s", exc)
        return None
    return version


def bump_content_version() -> None:
    """Make every cached page stale. Saving must not fail when the cache is down."""
    try:
        new = f"{time.time():.6f}"
        if new == cache.get(VERSION_KEY):
            new = f"{time.time() + 0.000001:.6f}"
        cache.set(VERSION_KEY, new, None)
    except CACHE_ERRORS as exc:
        logger.warning("Could not mark cached pages stale: %s", exc)


def cached_response(key: str):
    """The cached page under `key`, or None (also when the cache is down)."""
    try:
        return cache.get(key)
    except CACHE_ERRORS as exc:
        logger.warning("The page cache is unavailable: %s", exc)
        return None


def keep_response(key: str, response, seconds: int) -> None:
    try:
        cache.set(key, response, seconds)
    except CACHE_ERRORS as exc:
        logger.warning("Could not keep a page in the cache: %s", exc)
