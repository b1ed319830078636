"""Hourly limits on what one client or one address may ask of the public forms.

The counts live in the default cache, keyed by a salted hash of the value (no address is stored).
When the cache cannot be reached (Redis is down) a limit lets the request through and logs a
warning: forms that keep working unthrottled for the length of an outage are better than forms
that all answer 500.
"""

import logging

import redis
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

logger = logging.getLogger(__name__)

HOUR = 60 * 60
# What the cache backends raise when their server or folder cannot be reached.
CACHE_ERRORS = (redis.RedisError, OSError)


def client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR only: a forwarded-for header is whatever the client wants it to be.
    return request.META.get("REMOTE_ADDR", "")


def allows(scope: str, value: str, per_hour: int) -> bool:
    """Count one request for `value` (a client, an address) in `scope`; False once over `per_hour`."""
    digest = salted_hmac("papers.throttling", value).hexdigest()
    key = f"throttle:{scope}:{digest}"
    try:
        return _count(key) <= per_hour
    except CACHE_ERRORS as exc:
        logger.warning("The %s limit is not applied: the cache is unreachable (%s)", scope, exc)
        return True


def _count(key: str) -> int:
    cache.add(key, 0, timeout=HOUR)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=HOUR)
        return 1
