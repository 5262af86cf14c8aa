"""Demo additions of the agency operations (issue 23): an agency's work results (催记) imported in bulk.

The lead's demo calls :func:`demo_agency_operations` once the day's placements exist (after the
operation of :mod:`fieldcollect.demodata.operation`): the agency with the most active placements
imports a file of its collectors' calls of the previous days (to the debtors who were sent the notice
before outsourcing, its waiting days passed), one of them at night (recorded and
counted as a breach), and one row that names a case it never held (refused with its reason). A second
import of the same file applies nothing.
"""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Count

from fieldcollect.agencies.models import Agency
from fieldcollect.cases.models import Case, Placement
from fieldcollect.cases.results_import import COLUMNS, call_row, results_import
from fieldcollect.compliance.services import notice_ready_cases
from fieldcollect.core.bank_time import bank_time_zone
from fieldcollect.core.cells import safe_csv_writer


def demo_work_results_file(*, cases: list[Case], day_before: datetime, unknown_case_id: int) -> bytes:
    """A CSV (UTF-8 with BOM, as spreadsheets write it) of calls to each case's debtor on the day
    before ``day_before``: a connected call in the morning, an unanswered one in the afternoon; the
    first case also gets a call at 22:30 (a breach of the contact hours), and a last row names a case
    the agency never held."""
    tz = bank_time_zone()
    day = (day_before.astimezone(tz) - timedelta(days=1)).date()
    buf = io.StringIO()
    w = safe_csv_writer(buf, lineterminator="\r\n")  # an agency's file: its notes are text, never formulas
    w.writerow(COLUMNS)
    n = 0

    def row(
        case_id: int,
        hour: int,
        minute: int,
        outcome: str,
        connected: int,
        notes: str = "",
        promise: tuple[str, str] = ("", ""),
    ) -> None:
        nonlocal n
        n += 1
        at = datetime.combine(day, time(hour, minute), tzinfo=tz).isoformat()
        w.writerow(
            call_row(
                agency_ref=f"DEMO-{day:%Y%m%d}-{n:05d}", case_id=case_id, at=at, outcome=outcome,
                connected=connected, promise=promise, notes=notes,
            )
        )

    for i, case in enumerate(cases):
        if i % 4 == 0:
            row(
                case.pk,
                10,
                i % 60,
                "promise",
                1,
                "客户承诺下周还款",
                ("50000", (day + timedelta(days=7)).isoformat()),
            )
        else:
            row(case.pk, 10, i % 60, "callback", 1, "客户要求稍后回电")
        row(case.pk, 15, i % 60, "no_answer", 0)
    if cases:
        row(cases[0].pk, 22, 30, "no_answer", 0, "夜间拨打（违规）")
    row(unknown_case_id, 11, 0, "no_answer", 0)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def demo_agency_operations(*, now: datetime, max_cases: int = 200) -> dict[str, Any]:
    """Import a day of work results for the agency holding the most active placements among those with
    debtors ready for its calls (system user);
    returns the answers of the first import and of the second (all duplicates)."""
    tops = list(
        Placement.objects.filter(status=Placement.Status.ACTIVE)
        .values("agency_id")
        .annotate(n=Count("id"))
        .order_by("-n", "agency_id")
    )
    if not tops:
        return {"imported": None}
    day = (now.astimezone(bank_time_zone()) - timedelta(days=1)).date()
    # the agency's dialler calls only debtors who were sent the notice before outsourcing and whose
    # waiting days have passed (the one deliberate breach of the file is the night call): the agency
    # with the most placements that has such debtors
    agency_id, cases = tops[0]["agency_id"], []
    for top in tops:
        held = list(
            Case.objects.filter(
                placements__agency_id=top["agency_id"],
                placements__status=Placement.Status.ACTIVE,
                placements__starts_on__lte=day,
            ).select_related("customer", "loan").order_by("pk")[: max_cases * 4]
        )
        ready = notice_ready_cases(cases=held, agency_id=top["agency_id"],
                                   at=datetime.combine(day, time(8, 0), tzinfo=bank_time_zone()))
        if ready:
            agency_id, cases = top["agency_id"], [c for c in held if c.pk in ready][:max_cases]
            break
    agency = Agency.objects.get(pk=agency_id)
    last = Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    data = demo_work_results_file(cases=cases, day_before=now, unknown_case_id=last + 1_000_000)
    first = results_import(
        agency=agency, data=data, filename="demo-work-results.csv", acting_user=None, now=now
    )
    second = results_import(
        agency=agency, data=data, filename="demo-work-results.csv", acting_user=None, now=now
    )
    return {"agency_id": agency_id, "first": first.as_dict(), "second": second.as_dict()}
