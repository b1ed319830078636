from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path

from papers.public import views as paper_views
from papers.public.caching import cached_page
from papers.public.sitemaps import SITEMAPS

# 503 while the database cannot be reached, 500 otherwise.
handler500 = "digest_site.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "sitemap.xml",
        cached_page(sitemap_views.index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap_section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        cached_page(sitemap_views.sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap_section",
    ),
    path("robots.txt", paper_views.robots_txt, name="robots_txt"),
    path("healthz", paper_views.healthz, name="healthz"),
    *i18n_patterns(
        # Readers' pages: English at /papers/..., Chinese at /zh-hans/papers/..., so a page's
        # language is part of its URL (and of every cache's key).
        path("", include("papers.public.urls")),
        path("", include("papers.subscriptions.urls")),
        prefix_default_language=False,
    ),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
