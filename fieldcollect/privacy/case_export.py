"""The case export of the export register page: the open cases a user may see, as a watermarked,
fingerprinted CSV or XLSX, streamed.

Customer values follow the pages' rule, :func:`fieldcollect.cases.selectors.customer_view`, row by row:
masked, except for a collector inside the window of a confirmed appointment to that customer (audited
``pii.unmask``, purpose "visit", channel "export", as on the case page) and for bank staff who ask for
fields in clear with a stated purpose (:func:`fieldcollect.privacy.unmask.unmask_request`; one
``pii.unmask`` entry naming the export, its purpose and fields, committed before any byte is sent).
The purpose of every export is stated by the user, never defaulted.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Generator, Iterable, Iterator
from typing import Any

from django.utils.translation import gettext as _

from fieldcollect.audit.services import audit_log
from fieldcollect.cases.access import cases_visible_to
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User
from fieldcollect.privacy.errors import PrivacyErrorCode
from fieldcollect.privacy.exports import Fmt, export_stream
from fieldcollect.privacy.models import ExportRecord
from fieldcollect.privacy.unmask import audited_customer_view, unmask_request

CASE_EXPORT_COLUMNS = ["case_id", "loan_id", "customer_id", "customer_name", "mobile", "district", "address",
                       "city", "status", "bucket", "dpd", "overdue_fen", "placed_until"]
# export column -> customer field (the value comes from the customer view, masked or clear)
CUSTOMER_COLUMNS = {"customer_name": "name", "mobile": "mobile", "district": "district", "address": "address"}
CLEAR_FIELDS = frozenset({"name", "mobile", "address"})  # what bank staff may ask for in clear here
PAGE = 500


def case_export_rows(*, user: User, unmask: Iterable[str] = ()) -> Iterator[list[Any]]:
    """The rows of :data:`CASE_EXPORT_COLUMNS`: the open cases ``user`` may see, ordered by id, read in
    pages of :data:`PAGE` (no cursor stays open while the rows are sent), customer values as the pages
    show them."""
    wanted = tuple(unmask)
    cases = cases_visible_to(user).filter(closed_on__isnull=True).select_related("customer").order_by("id")
    last = 0
    while page := list(cases.filter(id__gt=last)[:PAGE]):
        for case in page:
            fields = audited_customer_view(user=user, case=case, channel="export", unmask=wanted).fields
            values = {column: fields.get(field, "") for column, field in CUSTOMER_COLUMNS.items()}
            yield [case.pk, case.loan_id, case.customer_id, values["customer_name"], values["mobile"],
                   values["district"], values["address"], case.city, case.status, case.bucket, case.dpd,
                   case.overdue_fen, case.placed_until]
        last = page[-1].pk


def stated_purpose(purpose: str | None) -> str:
    """The purpose a user stated for an export, stripped: required (never defaulted) and plain text
    (it is printed on the file and stored). The one rule for every export, page, job or command line."""
    purpose = (purpose or "").strip()
    if not purpose:
        raise ApplicationError(_("State the purpose of the export."), code=PrivacyErrorCode.EXPORT_PURPOSE)
    if any(unicodedata.category(ch) == "Cc" for ch in purpose):
        raise ApplicationError(_("The purpose must be plain text, without control characters."),
                               code=PrivacyErrorCode.EXPORT_PURPOSE)
    return purpose


def case_export(*, user: User, purpose: str, fmt: Fmt, show: Iterable[str] = ()) -> tuple[ExportRecord, Generator[bytes, None, None]]:
    """Start the case export for ``user``: its record and the file's bytes to stream.

    ``show`` (bank staff only): customer fields wanted in clear, which needs a purpose of at least 10
    characters (:func:`unmask_request`). Any export needs a stated purpose. Bad requests raise
    :class:`ApplicationError` (400, 403) before anything is recorded."""
    show = [f for f in show if f]
    wanted: list[str] = []
    if show:
        wanted, purpose = unmask_request(user=user, fields=show, purpose=purpose, offered=CLEAR_FIELDS)
    purpose = stated_purpose(purpose)

    def audit_unmask(record: ExportRecord) -> None:
        if wanted:
            audit_log(actor=user, action="pii.unmask", object_type="ExportRecord", object_id=record.pk,
                      new={"purpose": purpose, "fields": wanted, "channel": "export",
                           "fingerprint": record.fingerprint, "name": record.name, "fmt": record.fmt})

    return export_stream(user=user, purpose=purpose, name="cases", columns=CASE_EXPORT_COLUMNS,
                         rows=case_export_rows(user=user, unmask=wanted), fmt=fmt, on_open=audit_unmask)
