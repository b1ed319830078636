from django import forms
from django.utils.translation import gettext_lazy as _

from papers.forms import PublicForm
from papers.models import Frequency, Tag, Topic


class SubscribeForm(PublicForm):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=Frequency.choices,
        initial=Frequency.DAILY,
        widget=forms.RadioSelect,
    )
    topic = forms.CharField(required=False, widget=forms.HiddenInput)
    tag = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_topic(self) -> Topic | None:
        slug = self.cleaned_data["topic"]
        return Topic.objects.filter(slug=slug).first() if slug else None

    def clean_tag(self) -> Tag | None:
        slug = self.cleaned_data["tag"]
        return Tag.objects.filter(slug=slug).first() if slug else None

    def clean(self) -> dict:
        data = super().clean()
        named = [name for name in ("topic", "tag") if self.data.get(name, "").strip()]
        if len(named) != 1:
            raise forms.ValidationError(_("Choose one topic or one tag to follow."))
        if not data.get(named[0]):
            raise forms.ValidationError(_("This topic or tag does not exist."))
        return data


class ManageForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("frequency", "frequency"), ("remove", "remove"), ("delete", "delete")]
    )
    subscription = forms.IntegerField(required=False)
    frequency = forms.ChoiceField(choices=Frequency.choices, required=False)
