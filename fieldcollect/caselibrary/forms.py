from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldcollect.caselibrary.models import AmountBand, Result, StoryChannel


class StoryForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    result = forms.ChoiceField(label=_("Result"), choices=Result.choices, widget=forms.RadioSelect)
    bucket = forms.ChoiceField(label=_("Bucket"), required=False,
                               choices=[("", "—")] + [(b, b) for b in ("M1", "M2", "M3", "M4", "M5", "M6", "M6+")])
    amount_band = forms.ChoiceField(label=_("Amount band"), required=False,
                                    choices=[("", "—"), *AmountBand.choices])
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", "—"), *StoryChannel.choices])
    tags = forms.CharField(label=_("Tags (comma-separated)"), required=False, max_length=400)
    situation = forms.CharField(label=_("The customer's situation"), required=False,
                                widget=forms.Textarea(attrs={"rows": 3}),
                                help_text=_("Do not write the customer's name or other personal data."))
    what_was_tried = forms.CharField(label=_("What was tried"), widget=forms.Textarea(attrs={"rows": 4}))
    what_worked = forms.CharField(label=_("What worked (or why it failed)"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    lessons = forms.CharField(label=_("Lessons"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    timeline = forms.CharField(label=_("Timeline of the case"), required=False,
                               widget=forms.Textarea(attrs={"rows": 6}))
