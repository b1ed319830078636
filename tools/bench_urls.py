"""The site's URLs plus one bare view, for measuring cache hits against Django's ceiling.

`/bench/bare/` answers the bytes the bench left in BENCH_BARE_FOLDER through the same middleware
as every page, with no cache, no database and no template: what a cache hit cannot beat.
"""

import os
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import path

from digest_site import urls as site_urls


def bare(request: HttpRequest) -> HttpResponse:
    folder = Path(os.environ["BENCH_BARE_FOLDER"])
    content_type = (folder / "bare.type").read_text()
    return HttpResponse((folder / "bare.bin").read_bytes(), content_type=content_type)


# The site's patterns are added as they are: i18n_patterns cannot be included.
urlpatterns = [path("bench/bare/", bare), *site_urls.urlpatterns]
