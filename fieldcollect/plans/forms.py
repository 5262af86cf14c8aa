"""Page forms for plans (validation only; the services do the work)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldcollect.plans.models import HardshipReason
from fieldcollect.plans.options import OptionKind


class _Base(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _yuan_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, min_value=Decimal("0"), max_digits=14, decimal_places=2,
                              widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}))


class HardshipForm(_Base):
    reason = forms.ChoiceField(label=_("Hardship reason"), choices=[("", "—"), *HardshipReason.choices])
    monthly_income = _yuan_field(_("Monthly income (yuan)"))
    monthly_expenses = _yuan_field(_("Monthly expenses (yuan)"))
    detail = forms.CharField(label=_("Details"), max_length=500, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def fen(self, name: str) -> int:
        return int(self.cleaned_data[name] * 100)


class ProposeForm(_Base):
    kind = forms.ChoiceField(choices=[(k.value, k.value) for k in OptionKind if k is not OptionKind.CURRENT])
    note = forms.CharField(max_length=500, required=False)


class EndorseForm(_Base):
    decision = forms.ChoiceField(choices=[("endorse", "endorse"), ("reject", "reject")])
    note = forms.CharField(max_length=500, required=False)
    version = forms.IntegerField(required=False)


class DecideForm(_Base):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject"), ("escalate", "escalate")])
    note = forms.CharField(max_length=500, required=False)
    version = forms.IntegerField(required=False)


class AcceptForm(_Base):
    confirm = forms.BooleanField(label=_("I have read the agreement and accept the new repayment plan."))


class DeclineForm(_Base):
    reason = forms.CharField(label=_("Reason (optional)"), max_length=200, required=False)
