"""The public pages' cache version: bumped whenever something readers see is saved or deleted.

Cached pages and feeds carry the version in their cache key, so a bump makes them all stale at
once. Queryset `.update()` and `.bulk_create()` send no signals: call `bump_content_version()`
after those.
"""

import logging
import time

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
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


def bump_content_version(**kwargs) -> None:
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


def connect() -> None:
    """Connect the receivers; called once from the app config's ready()."""
    from papers.models import (
        Digest,
        DigestEntry,
        Figure,
        Paper,
        Summary,
        Tag,
        TaggedPaper,
        Topic,
        TopicPaper,
    )

    for model in (Paper, Summary, Figure, Digest, DigestEntry, Topic, TopicPaper, Tag, TaggedPaper):
        uid = f"papers.content-version.{model.__name__}"
        post_save.connect(bump_content_version, sender=model, dispatch_uid=uid + ".save")
        post_delete.connect(bump_content_version, sender=model, dispatch_uid=uid + ".delete")
    m2m_changed.connect(
        bump_content_version, sender=TaggedPaper, dispatch_uid="papers.content-version.tags"
    )
