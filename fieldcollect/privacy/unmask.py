"""Seeing customer data in clear: a bank user states a purpose (audited "pii.unmask" with the purpose
and the fields) and sees those fields in clear on that response only; a collector's reads in clear
around a confirmed visit are audited the same way (purpose "visit")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldcollect.audit.services import audit_log
from fieldcollect.cases.models import Case
from fieldcollect.cases.selectors import PII_FIELDS, CustomerView, customer_view
from fieldcollect.core.errors import ApplicationError, PermissionDeniedError
from fieldcollect.core.models import User
from fieldcollect.privacy.errors import PrivacyErrorCode

FIELD_LABELS = {"name": gettext_lazy("Name"), "mobile": gettext_lazy("Mobile"),
                "id_number": gettext_lazy("ID number"), "address": gettext_lazy("Address")}


class UnmaskForm(forms.Form):
    show = forms.MultipleChoiceField(choices=list(FIELD_LABELS.items()), label=gettext_lazy("Fields"))
    purpose = forms.CharField(min_length=10, max_length=300, label=gettext_lazy("Purpose"),
                              strip=True)


def unmask_request(*, user: User, fields: Iterable[str], purpose: str,
                   offered: frozenset[str] = PII_FIELDS) -> tuple[list[str], str]:
    """The fields (among ``offered``) and the stated purpose of a request to see customer data in
    clear, the one rule for pages and exports: bank staff only, a purpose of at least 10 characters
    (never a default), at least one field. Raises :class:`ApplicationError` naming what is wrong."""
    if not user.is_bank_user:
        raise PermissionDeniedError(_("Only bank staff may unmask customer data."), code=PrivacyErrorCode.PII_UNMASK_DENIED)
    purpose = (purpose or "").strip()
    if len(purpose) < 10:
        raise ApplicationError(_("State the purpose (at least 10 characters)."), code=PrivacyErrorCode.PII_PURPOSE_REQUIRED)
    wanted = sorted(set(fields) & PII_FIELDS & offered)
    if not wanted:
        raise ApplicationError(_("Choose the fields to show."), code=PrivacyErrorCode.PII_NO_FIELDS)
    return wanted, purpose


def pii_unmask(*, user: User, case: Case, fields: list[str], purpose: str) -> CustomerView:
    """Audit a bank user's request to see ``fields`` in clear for ``purpose``; return the view."""
    wanted, purpose = unmask_request(user=user, fields=fields, purpose=purpose)
    view = customer_view(user=user, case=case, unmask=wanted)
    with transaction.atomic():
        audit_log(actor=user, action="pii.unmask", object_type="Customer", object_id=case.customer_id,
                  new={"case_id": case.pk, "purpose": purpose, "fields": sorted(view.clear)})
    return view


def _audit_visit_read(*, user: User, case: Case, view: CustomerView, channel: str) -> None:
    if view.reason != "visit" or view.visit is None:
        return
    with transaction.atomic():
        audit_log(actor=user, action="pii.unmask", object_type="Customer", object_id=case.customer_id,
                  new={"case_id": case.pk, "purpose": "visit", "fields": sorted(view.clear), "channel": channel,
                       "window": [view.visit[0].isoformat(), view.visit[1].isoformat()]})


def page_customer_view(request: HttpRequest, *, user: User, case: Case) -> CustomerView:
    """The customer view of the case page: in clear what :func:`fieldcollect.cases.views.case_unmask`
    allowed for this request, or what a confirmed visit allows (audited)."""
    view = getattr(request, "pii_view", None)
    if isinstance(view, CustomerView):
        return view
    view = customer_view(user=user, case=case)
    _audit_visit_read(user=user, case=case, view=view, channel="page")
    return view


def api_customer_view(*, user: User, case: Case) -> CustomerView:
    return audited_customer_view(user=user, case=case, channel="api")


def audited_customer_view(*, user: User, case: Case, channel: str, unmask: Any = ()) -> CustomerView:
    """The customer view for another page or channel (e.g. "day_plan", "export"); a read in clear around
    a visit is audited here. ``unmask``: fields a bank user asked for after a purpose that the caller
    has checked (:func:`unmask_request`) and audited."""
    view = customer_view(user=user, case=case, unmask=unmask)
    _audit_visit_read(user=user, case=case, view=view, channel=channel)
    return view


def field_label(name: str) -> Any:
    return FIELD_LABELS.get(name, name)
