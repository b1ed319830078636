"""The site's own middleware."""

from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class SiteLocaleMiddleware(LocaleMiddleware):
    """Readers' pages take their language from the URL (`/zh-hans/...`); the editors' admin, which
    has no language in its URLs, takes the editor's choice (the language cookie, else the browser's)."""

    def process_request(self, request):
        if request.path_info.startswith("/admin/"):
            translation.activate(translation.get_language_from_request(request))
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)
