from django import forms
from django.utils.translation import gettext_lazy as _

from papers.forms import TrapForm
from papers.models import Frequency, Tag, Topic


class SubscribeForm(TrapForm):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=Frequency.choices,
        initial=Frequency.DAILY,
        widget=forms.RadioSelect,
    )
    topic = forms.CharField(required=False, widget=forms.HiddenInput)
    tag = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict:
        data = super().clean()
        topic_slug, tag_slug = data.get("topic"), data.get("tag")
        if bool(topic_slug) == bool(tag_slug):
            raise forms.ValidationError(_("Choose one topic or one tag to follow."))
        data["topic"] = Topic.objects.filter(slug=topic_slug).first() if topic_slug else None
        data["tag"] = Tag.objects.filter(slug=tag_slug).first() if tag_slug else None
        if not (data["topic"] or data["tag"]):
            raise forms.ValidationError(_("This topic or tag does not exist."))
        return data


class ManageForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("frequency", "frequency"), ("remove", "remove"), ("delete", "delete")]
    )
    subscription = forms.IntegerField(required=False)
    frequency = forms.ChoiceField(choices=Frequency.choices, required=False)
