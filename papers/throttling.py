"""Hourly limits on what one client or one address may ask of the public forms.

The counts live in the default cache, keyed by a salted hash of the value (no address is stored).
"""

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

HOUR = 60 * 60


def client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR only: a forwarded-for header is whatever the client wants it to be.
    return request.META.get("REMOTE_ADDR", "")


def allows(scope: str, value: str, per_hour: int) -> bool:
    """Count one request for `value` (a client, an address) in `scope`; False once over `per_hour`."""
    digest = salted_hmac("papers.throttling", value).hexdigest()
    key = f"throttle:{scope}:{digest}"
    cache.add(key, 0, timeout=HOUR)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=HOUR)
        count = 1
    return count <= per_hour
