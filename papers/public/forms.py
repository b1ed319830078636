from django import forms
from django.utils.translation import gettext_lazy as _

from papers.forms import PublicForm
from papers.text import clean_text


class ErrorReportForm(PublicForm):
    """A reader's report of a mistake in a summary."""

    message = forms.CharField(
        label=_("What is wrong?"),
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    contact = forms.CharField(
        label=_("Your e-mail or name (optional)"),
        required=False,
        max_length=200,
    )

    def clean_message(self) -> str:
        return clean_text(self.cleaned_data["message"])

    def clean_contact(self) -> str:
        return clean_text(self.cleaned_data["contact"])
