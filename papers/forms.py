"""Pieces the public forms share (the error report, the subscribe form)."""

from django import forms

# The name of the trap field: hidden from people by the page's style, filled in by robots.
# Every form renders it with the template `_trap.html`.
TRAP_FIELD = "website"


class TrapForm(forms.Form):
    """A form with a robot trap. Whoever fills it in is told "done" and nothing happens."""

    def is_trap_filled(self) -> bool:
        return bool(self.data.get(TRAP_FIELD, "").strip())
