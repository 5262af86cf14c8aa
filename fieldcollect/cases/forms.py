"""Page forms (validation only; the services do the work)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldcollect.cases.lifecycle import CloseReason
from fieldcollect.cases.models import Channel, Outcome, Party, Task
from fieldcollect.cases.selectors import CaseFilters
from fieldcollect.core import params


class BaseForm(forms.Form):
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class CaseListParams(params.QueryForm):
    """The case list's filters (``?bucket=M2&dpd_min=30&amount_min=500.00&agency=3&collector=none``);
    amounts in yuan."""

    bucket = params.TextParam(max_length=16)
    status = params.TextParam(max_length=32)
    city = params.TextParam(max_length=64)
    agency = params.IdParam()
    collector = params.TextParam(max_length=20)  # an id, or "none" (not assigned)
    dpd_min = params.IntParam(min_value=0, max_value=100_000)
    dpd_max = params.IntParam(min_value=0, max_value=100_000)
    amount_min = params.YuanParam()
    amount_max = params.YuanParam()
    closed = params.FlagParam()
    after = params.TextParam(max_length=200)  # the keyset cursor (an opaque token; a bad one means page 1)

    def clean_collector(self) -> int | str | None:
        value = self.cleaned_data["collector"]
        if value in ("", "none"):
            return value or None
        return params.IdParam().clean(value)

    @classmethod
    def filters(cls, data: object) -> CaseFilters:
        """The filters of ``data`` (a QueryDict or a dict); raises ``InvalidParameters`` on a bad value."""
        p = cls.parse(data)
        collector = p["collector"]
        return CaseFilters(
            bucket=p["bucket"], status=p["status"], city=p["city"], agency_id=p["agency"],
            collector_id=collector if isinstance(collector, int) else None, unassigned=collector == "none",
            dpd_min=p["dpd_min"], dpd_max=p["dpd_max"], overdue_min_fen=p["amount_min"],
            overdue_max_fen=p["amount_max"], include_closed=p["closed"])


class VersionedForm(BaseForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ContactForm(VersionedForm):
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", "—"), *Channel.choices])
    party = forms.ChoiceField(label=_("Party"), choices=Party.choices, initial=Party.DEBTOR)
    number = forms.CharField(label=_("Number or address"), max_length=32, required=False)
    connected = forms.BooleanField(label=_("Connected"), required=False)
    conversation = forms.BooleanField(label=_("Spoke with the party"), required=False)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", "—"), *Outcome.choices])
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    at = forms.DateTimeField(label=_("Time (empty: now)"), required=False,
                             widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class PromiseForm(VersionedForm):
    amount = forms.DecimalField(label=_("Amount (yuan)"), min_value=Decimal("0.01"), max_digits=14,
                                decimal_places=2)
    due_on = forms.DateField(label=_("Promised date"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean_due_on(self):  # type: ignore[no-untyped-def]
        due = self.cleaned_data["due_on"]
        if due < timezone.localdate():
            raise forms.ValidationError(_("The promised date cannot be in the past."))
        return due

    @property
    def amount_fen(self) -> int:
        return int(self.cleaned_data["amount"] * 100)


class AssignForm(VersionedForm):
    collector = forms.IntegerField(label=_("Collector"))


class NoteForm(BaseForm):
    body = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class TaskForm(BaseForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=Task.Kind.choices, initial=Task.Kind.FOLLOW_UP)
    title = forms.CharField(label=_("Task"), max_length=200)
    due_on = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))


class PlaceForm(VersionedForm):
    agency = forms.IntegerField(label=_("Agency"))
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=365, required=False)
    # customer-level placement: place apart from the customer's other cases (bank users, with a reason)
    override_customer = forms.BooleanField(label=_("Override the customer-level placement"), required=False)
    override_reason = forms.CharField(label=_("Reason for the override"), max_length=300, required=False)


class RecallForm(VersionedForm):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class CloseForm(VersionedForm):
    close_reason = forms.ChoiceField(label=_("Close reason"), choices=CloseReason.choices)


class TaskCompleteForm(BaseForm):
    result = forms.CharField(label=_("Result"), max_length=500, required=False)


class ResultsUploadForm(BaseForm):
    """The work-results upload (the file is checked by :mod:`fieldcollect.cases.results_import`)."""

    file = forms.FileField(label=_("File (CSV or XLSX)"))
