"""The contract form: the terms of a contract (or of a new version) as people type them, turned into
the values :func:`fieldcollect.agencies.services.clean_terms` checks."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldcollect.agencies.models import TERM_FIELDS, ContractTermsFields
from fieldcollect.agencies.services import BUCKETS, PENALTY_KINDS, PERMITTED_FIELD_CHOICES
from fieldcollect.core import params

_SPLIT = re.compile(r"[,，、;\n\r]+")


def _names(text: str) -> list[str]:
    return [p.strip() for p in _SPLIT.split(text or "") if p.strip()]


def _pairs(text: str, field: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in _names(text):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise forms.ValidationError(_("Write %(field)s as name=value, one per line.") % {"field": field})
        out[key.strip()] = value.strip()
    return out


class TermsForm(forms.Form):
    regions = forms.CharField(
        label=_("Regions (cities, one per line)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    eligible_buckets = forms.MultipleChoiceField(
        label=_("Buckets"),
        required=False,
        choices=[(b, b) for b in BUCKETS],
        widget=forms.CheckboxSelectMultiple,
    )
    capacity = forms.IntegerField(label=_("Capacity (open cases)"), min_value=0, max_value=10_000_000)
    placement_days = forms.IntegerField(label=_("Placement period (days)"), min_value=1, max_value=366)
    max_retentions = forms.IntegerField(
        label=_("Retentions allowed per placement"), min_value=0, max_value=100
    )
    commission_tiers = forms.CharField(
        label=_("Commission tiers (bucket=rate, one per line)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    permitted_fields = forms.MultipleChoiceField(
        label=_("Permitted customer data"),
        required=False,
        choices=[(f, f) for f in PERMITTED_FIELD_CHOICES],
        widget=forms.CheckboxSelectMultiple,
    )
    penalty_terms = forms.CharField(
        label=_("Penalty terms (kind=fen, one per line)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=", ".join(PENALTY_KINDS),
    )
    sub_processors = forms.CharField(
        label=_("Sub-processors (one per line)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    dsa_signed_on = params.DateParam(label=_("Data-security agreement signed on"))
    dsa_valid_until = params.DateParam(label=_("Data-security agreement valid until"))
    pia_completed_on = params.DateParam(label=_("Impact assessment completed on"))
    pia_reference = forms.CharField(label=_("Impact assessment record"), required=False, max_length=100)
    pia_summary = forms.CharField(
        label=_("Impact assessment conclusion"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_regions(self) -> list[str]:
        return _names(self.cleaned_data["regions"])

    def clean_sub_processors(self) -> list[str]:
        return _names(self.cleaned_data["sub_processors"])

    def clean_commission_tiers(self) -> dict[str, str]:
        return _pairs(self.cleaned_data["commission_tiers"], "commission_tiers")

    def clean_penalty_terms(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for k, v in _pairs(self.cleaned_data["penalty_terms"], "penalty_terms").items():
            if not re.fullmatch(r"[0-9]{1,15}", v):
                raise forms.ValidationError(_("%(kind)s: whole fen, zero or more.") % {"kind": k})
            out[k] = int(v)
        return out

    def terms(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in TERM_FIELDS if k in self.cleaned_data}

    @classmethod
    def initial_from(cls, source: ContractTermsFields) -> dict[str, Any]:
        return {
            "regions": "\n".join(source.regions or []),
            "eligible_buckets": list(source.eligible_buckets or []),
            "capacity": source.capacity,
            "placement_days": source.placement_days,
            "max_retentions": source.max_retentions,
            "commission_tiers": "\n".join(f"{k}={v}" for k, v in (source.commission_tiers or {}).items()),
            "permitted_fields": list(source.permitted_fields or []),
            "penalty_terms": "\n".join(f"{k}={v}" for k, v in (source.penalty_terms or {}).items()),
            "sub_processors": "\n".join(source.sub_processors or []),
            "dsa_signed_on": source.dsa_signed_on,
            "dsa_valid_until": source.dsa_valid_until,
            "pia_completed_on": source.pia_completed_on,
            "pia_reference": source.pia_reference,
            "pia_summary": source.pia_summary,
        }


class VersionForm(TermsForm):
    effective_from = params.DateParam(label=_("Effective from"), required=True)
    note = forms.CharField(label=_("Why the terms change"), max_length=500)


class ContractForm(TermsForm):
    reference = forms.CharField(label=_("Contract reference"), max_length=64)
    starts_on = params.DateParam(label=_("Starts on"), required=True)
    ends_on = params.DateParam(label=_("Ends on"), required=True)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
