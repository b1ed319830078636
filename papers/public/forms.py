from django import forms
from django.utils.translation import gettext_lazy as _

from papers.text import clean_text


class ErrorReportForm(forms.Form):
    """A reader's report of a mistake in a summary. `website` is a trap only robots fill in."""

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
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_message(self) -> str:
        return clean_text(self.cleaned_data["message"])

    def clean_contact(self) -> str:
        return clean_text(self.cleaned_data["contact"])

    def is_trap_filled(self) -> bool:
        return bool(self.data.get("website", "").strip())
