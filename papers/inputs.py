"""What readers send in URLs and forms, checked where it comes in.

No control character belongs in a slug, a token, a search, an address or a report, and PostgreSQL
refuses a NUL in any text it is asked about. Such input is refused before it reaches a query: in a
path it matches no URL (404), in a query string it answers 404, in a form it is a field error.
Tab, line feed and carriage return are allowed (a report's message has lines).
"""

import re

from django.core.validators import RegexValidator
from django.http import Http404, HttpRequest
from django.urls import register_converter

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(value: str) -> bool:
    return CONTROL_CHARACTERS.search(value) is not None


# A form field validator ("Enter a valid value.").
reject_control_characters = RegexValidator(CONTROL_CHARACTERS, inverse_match=True)


def query_value(request: HttpRequest, name: str, default: str = "") -> str:
    """One query-string value; control characters answer 404."""
    value = request.GET.get(name, default)
    if has_control_characters(value):
        raise Http404(f"control characters in {name}")
    return value


def query_values(request: HttpRequest, name: str) -> list[str]:
    """Every value of a repeated query-string parameter; control characters answer 404."""
    values = request.GET.getlist(name)
    if any(has_control_characters(value) for value in values):
        raise Http404(f"control characters in {name}")
    return values


class TextConverter:
    """`<text:name>`: like `<str:name>` (anything but a slash), without control characters."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        if has_control_characters(value):
            raise ValueError("control characters")  # the URL does not match: 404
        return value

    def to_url(self, value: str) -> str:
        return value


# Registered here, once, for every urls module that imports this one.
register_converter(TextConverter, "text")
