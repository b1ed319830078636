"""The content version: the time of the last change to anything readers see. Cached pages and
counts carry it in their keys, so a bump makes them all stale at once.

Receivers bump it on every save and delete of what readers see; queryset `.update()` and
`.bulk_create()` send no signals, so code that uses them calls `bump_content_version()` itself.
When the cache cannot be reached, nothing fails: pages and counts are computed afresh.
"""

import logging
import time

from django.core.cache import cache
from redis.exceptions import RedisError

VERSION_KEY = "papers:content-version"
# What a cache that cannot be reached raises (Redis down, a file cache on a full disk).
CACHE_ERRORS = (RedisError, OSError)
log = logging.getLogger(__name__)


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
        log.warning("The page cache is unavailable, serving uncached: %s", exc)
        return None
    return version


# The last version this process wrote, in microseconds: a bump never writes the same one twice,
# with one cache write and no read (a paper's processing bumps it a dozen times).
_last_bump = 0


def bump_content_version() -> None:
    """Make every cached page stale. Saving must not fail when the cache is down."""
    global _last_bump
    _last_bump = max(time.time_ns() // 1000, _last_bump + 1)
    seconds, micros = divmod(_last_bump, 1_000_000)
    try:
        cache.set(VERSION_KEY, f"{seconds}.{micros:06d}", None)
    except CACHE_ERRORS as exc:
        log.warning("Could not mark cached pages stale: %s", exc)
