"""Admin pieces for Markdown digests: an upload page that imports posts, and an export action.

Wired in papers/admin/digests.py: the view as an extra page of the digest admin at URL name
`admin:papers_digest_import`, the action on the digest admin.
"""

import io
import zipfile

from django import forms
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from papers.markdown.importer import (
    PostFormatError,
    decode_post,
    digest_filename,
    export_digest,
    import_post,
)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files and returns a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ".md,.markdown,text/markdown"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class ImportDigestForm(forms.Form):
    files = MultipleFileField(
        label=_("Markdown posts"), help_text=_("One or more .md files in the digest format")
    )

    def clean_files(self):
        files = self.cleaned_data["files"]
        errors = []
        self.contents: list[tuple[str, bytes]] = []
        for upload in files:
            name = upload.name
            if not name.lower().endswith((".md", ".markdown")):
                errors.append(_("%(name)s is not a Markdown (.md) file.") % {"name": name})
                continue
            if upload.size > MAX_UPLOAD_BYTES:
                errors.append(_("%(name)s is larger than 5 MB.") % {"name": name})
                continue
            data = upload.read()
            try:
                decode_post(data, name)
            except PostFormatError as exc:
                errors.append(
                    _("%(name)s, line %(line)s: %(message)s")
                    % {"name": name, "line": exc.line, "message": exc.message}
                )
                continue
            self.contents.append((name, data))
        if errors:
            raise forms.ValidationError(errors)
        return files


@staff_member_required
def import_digest_view(request: HttpRequest, model_admin=None) -> HttpResponse:
    """Upload posts and show what the import did, one row per file (served by the digest admin)."""
    if not request.user.has_perm("papers.add_digest"):
        raise PermissionDenied
    reports = []
    if request.method == "POST":
        form = ImportDigestForm(request.POST, request.FILES)
        if form.is_valid():
            reports = [import_post(data, name) for name, data in form.contents]
    else:
        form = ImportDigestForm()
    context = {
        **admin.site.each_context(request),
        "title": _("Import Markdown digests"),
        "form": form,
        "reports": reports,
    }
    return TemplateResponse(request, "admin/papers/import_digest.html", context)


@admin.action(description=_("Export as Markdown"))
def export_digests_action(modeladmin, request: HttpRequest, queryset) -> HttpResponse:
    """One digest: a .md download; several: a .zip of .md files."""
    digests = list(queryset.select_related("topic", "cover").order_by("date", "topic__name"))
    if len(digests) == 1:
        digest = digests[0]
        response = HttpResponse(
            export_digest(digest).encode("utf-8"), content_type="text/markdown; charset=utf-8"
        )
        response["Content-Disposition"] = _attachment(digest_filename(digest))
        return response
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for digest in digests:
            archive.writestr(digest_filename(digest), export_digest(digest).encode("utf-8"))
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = _attachment("digests.zip")
    return response


def _attachment(filename: str) -> str:
    return content_disposition_header(as_attachment=True, filename=filename)
