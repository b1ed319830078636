"""The site's own middleware: the language of a request, site-wide response headers, and the last
line of defence for outside text in HTML pages."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from papers.text import strip_bidi_controls


class ContentSecurityPolicyMiddleware:
    """Adds settings.CONTENT_SECURITY_POLICY to every answer that has no policy of its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class StripBidiControlsMiddleware:
    """Removes bidi overrides and isolates from HTML pages, admin pages included.

    Text is cleaned when it enters the database (papers.text); this also covers rows stored
    before that, and text an editor pasted, so no override can reverse the text around it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if response.streaming or not content_type.startswith("text/html"):
            return response
        if response.charset.lower().replace("-", "") != "utf8":
            return response
        content = strip_bidi_controls(response.content)
        if len(content) != len(response.content):
            response.content = content
            if response.has_header("Content-Length"):
                response.headers["Content-Length"] = str(len(content))
        return response


class SiteLocaleMiddleware(LocaleMiddleware):
    """Readers' pages take their language from the URL (`/zh-hans/...`); the editors' admin, which
    has no language in its URLs, takes the editor's choice (the language cookie, else the browser's)."""

    def process_request(self, request):
        if request.path_info.startswith("/admin/"):
            translation.activate(translation.get_language_from_request(request))
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)
