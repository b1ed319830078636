"""What the forms readers fill in share (the error report, the subscribe form)."""

from django import forms

from papers.inputs import reject_control_characters

# The name of the trap field: hidden from people by the page's style, filled in by robots.
# Every form renders it with the template `_trap.html`.
TRAP_FIELD = "website"


class PublicForm(forms.Form):
    """A form for anyone: text fields refuse control characters, and a trap catches robots.

    Whoever fills in the trap is told "done" and nothing happens.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators.append(reject_control_characters)

    def is_trap_filled(self) -> bool:
        return bool(self.data.get(TRAP_FIELD, "").strip())
