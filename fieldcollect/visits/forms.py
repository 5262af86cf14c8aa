"""Forms of the visit pages (validation of shape only; rules live in the services)."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldcollect.compliance.engine import zone
from fieldcollect.visits.models import CheckIn, Met, Shift, VisitOutcome

DATE = forms.DateInput(attrs={"type": "date"})
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class ProposeForm(forms.Form):
    """Up to three windows, in the customer's local time."""

    date1 = forms.DateField(label=_("Date"), widget=DATE)
    start1 = forms.TimeField(label=_("From"), widget=TIME)
    end1 = forms.TimeField(label=_("To"), widget=TIME)
    date2 = forms.DateField(label=_("Date"), widget=DATE, required=False)
    start2 = forms.TimeField(label=_("From"), widget=TIME, required=False)
    end2 = forms.TimeField(label=_("To"), widget=TIME, required=False)
    date3 = forms.DateField(label=_("Date"), widget=DATE, required=False)
    start3 = forms.TimeField(label=_("From"), widget=TIME, required=False)
    end3 = forms.TimeField(label=_("To"), widget=TIME, required=False)

    def windows(self, tz: str) -> list[tuple[datetime, datetime]]:
        z = zone(tz)
        out = []
        for i in (1, 2, 3):
            d, s, e = (self.cleaned_data.get(f"{k}{i}") for k in ("date", "start", "end"))
            if d and s and e:
                out.append((datetime.combine(d, s, tzinfo=z), datetime.combine(d, e, tzinfo=z)))
        return out


class SuggestForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DATE)
    start = forms.TimeField(label=_("Time"), widget=TIME)


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), max_length=200, required=False)


class CheckInForm(forms.Form):
    lat = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90)
    lon = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)
    accuracy = forms.FloatField(label=_("Accuracy (m)"), min_value=0, initial=0)
    manual = forms.BooleanField(required=False, widget=forms.HiddenInput)
    coord_system = forms.ChoiceField(
        label=_("Coordinate system"), required=False, initial=CheckIn.System.WGS84,
        choices=[(CheckIn.System.WGS84, _("WGS-84 (GPS, the browser's position)")),
                 (CheckIn.System.GCJ02, _("GCJ-02 (Amap, Tencent, Apple Maps in China)")),
                 (CheckIn.System.BD09, _("BD-09 (Baidu Maps)"))])

    def clean_coord_system(self) -> str:
        return self.cleaned_data.get("coord_system") or CheckIn.System.WGS84


class ReportStartForm(forms.Form):
    """Who was met at the door (and, for the debtor, how their identity was confirmed). Whether the
    visit is recorded is not ticked: it is a fact once a recording is attached to the report."""

    met = forms.ChoiceField(label=_("Who was met at the door"), choices=Met.choices, required=False)
    identity_check = forms.CharField(label=_("How the debtor's identity was confirmed"), max_length=200,
                                     required=False)


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("File"))  # its kind is decided from its content (visits.evidence.sniff)


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=VisitOutcome.choices)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    customer_situation = forms.CharField(label=_("Customer's situation"), widget=forms.Textarea(attrs={"rows": 3}),
                                         required=False)
    promise_amount = forms.DecimalField(label=_("Promised amount (yuan)"), min_value=Decimal("0.01"),
                                        decimal_places=2, required=False)
    promise_due_on = forms.DateField(label=_("Promised date"), widget=DATE, required=False)
    new_address = forms.CharField(label=_("New address (the customer moved)"), max_length=300, required=False)
    new_phone = forms.CharField(label=_("New phone number"), max_length=32, required=False)

    def amount_fen(self) -> int | None:
        value = self.cleaned_data.get("promise_amount")
        return int(value * 100) if value is not None else None


class ShiftForm(forms.Form):
    collector = forms.TypedChoiceField(label=_("Collector"), coerce=int)
    start = forms.TimeField(label=_("From"), widget=TIME, initial=time(9, 0))
    end = forms.TimeField(label=_("To"), widget=TIME, initial=time(18, 0))
    base = forms.ChoiceField(label=_("Base"), choices=Shift.Base.choices)

    def __init__(self, *args: Any, collectors: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["collector"].choices = collectors or []  # type: ignore[attr-defined]


class PairForm(forms.Form):
    member_a = forms.TypedChoiceField(label=_("Collector"), coerce=int)
    member_b = forms.TypedChoiceField(label=_("Collector"), coerce=int)

    def __init__(self, *args: Any, collectors: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member_a"].choices = collectors or []  # type: ignore[attr-defined]
        self.fields["member_b"].choices = collectors or []  # type: ignore[attr-defined]


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


_YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(label=_("Overall, how was it? (5 = very good, 1 = very bad)"), coerce=int,
                                    choices=[(i, str(i)) for i in range(5, 0, -1)], widget=forms.RadioSelect)
    polite = forms.TypedChoiceField(label=_("Was the collector polite?"), choices=_YES_NO, coerce=_yes_no,
                                    empty_value=None, required=False, widget=forms.RadioSelect)
    clear = forms.TypedChoiceField(label=_("Was the explanation clear?"), choices=_YES_NO, coerce=_yes_no,
                                   empty_value=None, required=False, widget=forms.RadioSelect)
    privacy_respected = forms.TypedChoiceField(label=_("Was your privacy respected?"), choices=_YES_NO,
                                               coerce=_yes_no, empty_value=None, required=False,
                                               widget=forms.RadioSelect)
    felt_threatened = forms.TypedChoiceField(label=_("Did you feel threatened?"), choices=_YES_NO, coerce=_yes_no,
                                             empty_value=None, required=False, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Comment (optional)"), widget=forms.Textarea(attrs={"rows": 3}),
                              required=False, max_length=2000)
