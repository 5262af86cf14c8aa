from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldcollect.complaints.models import Category, CustomerAnswer, Finding, RootCause, Severity, Source

# how the customer sees the categories (plain words)
CUSTOMER_CATEGORIES = [
    (Category.THREATS, _("I was threatened or insulted")),
    (Category.HARASSMENT, _("Too many calls or visits, or at unreasonable times")),
    (Category.DISCLOSURE, _("My debt was told to family, friends or my employer")),
    (Category.PRIVACY, _("My personal data was misused")),
    (Category.WRONG_PERSON, _("I am not the person who owes this money")),
    (Category.FEES, _("I was asked for fees or for cash")),
    (Category.DISPUTE, _("I dispute the amount or the debt")),
]


class CustomerComplaintForm(forms.Form):
    category = forms.ChoiceField(label=_("What happened?"), choices=CUSTOMER_CATEGORIES, widget=forms.RadioSelect)
    description = forms.CharField(label=_("Tell us more (when, who, what was said)"),
                                  widget=forms.Textarea(attrs={"rows": 5}), max_length=5000)


class CustomerAnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=[(CustomerAnswer.ACCEPTED, _("I accept the resolution")),
                                        (CustomerAnswer.REJECTED, _("I do not accept the resolution"))],
                               widget=forms.RadioSelect, label=_("Your answer"))
    note = forms.CharField(label=_("Comment (optional)"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class IntakeForm(forms.Form):
    source = forms.ChoiceField(label=_("Source"), choices=[(Source.HOTLINE, Source.HOTLINE.label),
                                                          (Source.REGULATOR, Source.REGULATOR.label)])
    case_id = forms.IntegerField(label=_("Case number"), required=False, min_value=1)
    customer_id = forms.IntegerField(label=_("Customer number (when there is no case)"), required=False, min_value=1)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    severity = forms.ChoiceField(label=_("Severity"), required=False,
                                 choices=[("", _("By category")), *Severity.choices])
    description = forms.CharField(label=_("What the customer says"), widget=forms.Textarea(attrs={"rows": 5}),
                                  max_length=5000)
    contact_phone = forms.CharField(label=_("Phone to answer on (if not the customer's mobile)"), required=False,
                                    max_length=32)
    regulator_reference = forms.CharField(label=_("Regulator's reference"), required=False, max_length=64)
    received_at = forms.DateTimeField(label=_("Received at (empty: now)"), required=False,
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def clean(self) -> dict:
        data = super().clean() or {}
        if not data.get("case_id") and not data.get("customer_id"):
            raise forms.ValidationError(_("Give the case number or the customer number."))
        return data


class AssignForm(forms.Form):
    assignee = forms.IntegerField(widget=forms.HiddenInput)


class SeverityForm(forms.Form):
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    reason = forms.CharField(label=_("Reason"), max_length=500)


class EntryForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    contact = forms.IntegerField(label=_("Link a contact"), required=False)
    visit_report = forms.IntegerField(label=_("Link a visit"), required=False)


class ResolveForm(forms.Form):
    finding = forms.ChoiceField(label=_("Finding"), choices=Finding.choices)
    root_cause = forms.ChoiceField(label=_("Root cause"), choices=RootCause.choices)
    resolution = forms.CharField(label=_("Resolution (what the customer is told)"),
                                 widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)
    remedy = forms.CharField(label=_("Remedy (e.g. apology, fee refunded, collector removed)"), required=False,
                             max_length=300)


class StaffAnswerForm(forms.Form):
    answer = forms.ChoiceField(label=_("The customer's answer"),
                               choices=[(CustomerAnswer.ACCEPTED, CustomerAnswer.ACCEPTED.label),
                                        (CustomerAnswer.REJECTED, CustomerAnswer.REJECTED.label),
                                        (CustomerAnswer.NO_ANSWER, CustomerAnswer.NO_ANSWER.label)])
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class AgencyResponseForm(forms.Form):
    response = forms.CharField(label=_("The agency's response"), widget=forms.Textarea(attrs={"rows": 4}),
                               max_length=5000)
