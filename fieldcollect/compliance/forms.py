"""Page forms of the compliance app (validation only; the services do the work)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldcollect.compliance.models import FlagKind
from fieldcollect.compliance.services import RESTRICTIVE_FLAGS
from fieldcollect.core import params


class FlagAddForm(forms.Form):
    flag = forms.ChoiceField(label=_("Flag"), choices=FlagKind.choices)
    starts_at = forms.DateTimeField(label=_("From (debtor's local time)"), required=False,
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label=_("Until (empty: until lifted)"), required=False,
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    phone = forms.CharField(label=_("Third party's phone"), max_length=32, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, restrictive_only: bool = False, **kwargs):  # type: ignore[no-untyped-def]
        """``restrictive_only``: offer only the flags that stop contact (what agency users may add)."""
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if restrictive_only:
            field = self.fields["flag"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [(v, label) for v, label in FlagKind.choices if v in RESTRICTIVE_FLAGS]


class FlagLiftForm(forms.Form):
    reason = forms.CharField(label=_("Reason for lifting"), max_length=500)


class ReportForm(params.QueryForm):
    day = params.DateParam(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    agency = params.IdParam(label=_("Agency"))
