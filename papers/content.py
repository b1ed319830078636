"""The content version: the time of the last change to anything readers see. Cached pages and
counts carry it in their keys, so a bump makes them all stale at once.

Receivers bump it on every save and delete of what readers see; queryset `.update()` and
`.bulk_create()` send no signals, so code that uses them calls `bump_content_version()` itself.
When the cache cannot be reached, nothing fails: pages and counts are computed afresh.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

VERSION_KEY = "papers:content-version"
# What a cache that cannot be reached raises (Redis down, a file cache on a full disk).
CACHE_ERRORS = (RedisError, OSError)
# What is kept per content version lives at most this long, should no change come for a while.
KEPT_SECONDS = 24 * 60 * 60
log = logging.getLogger(__name__)
T = TypeVar("T")


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
    """Make every cached page stale, now and once more when the transaction commits: a page
    rendered in between reads the data before the change, and would be kept under the new
    version. Saving must not fail when the cache is down."""
    _new_version()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_new_version)


def _new_version() -> None:
    global _last_bump
    _last_bump = max(time.time_ns() // 1000, _last_bump + 1)
    seconds, micros = divmod(_last_bump, 1_000_000)
    try:
        cache.set(VERSION_KEY, f"{seconds}.{micros:06d}", None)
    except CACHE_ERRORS as exc:
        log.warning("Could not mark cached pages stale: %s", exc)


def kept(name: str, compute: Callable[[], T]) -> T:
    """`compute()`, done once per content version and shared through the cache (counts over the
    whole archive, say). Done afresh, uncached, when the cache cannot be reached."""
    version = content_version()
    if version is None:
        return compute()
    key = "papers:kept:" + hashlib.md5(f"{version}:{name}".encode()).hexdigest()
    try:
        value = cache.get(key)
    except CACHE_ERRORS:
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, KEPT_SECONDS)
        except CACHE_ERRORS:
            pass
    return value
