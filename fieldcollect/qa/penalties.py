"""Confirmed QA findings as a penalty source of the commission statement (issue 21 item 5, issue 23 item 6).

Each finding confirmed at review and still in force (not withdrawn on appeal) is one chargeable event of
the agency: kind ``qa_finding_serious`` for a critical finding, ``qa_finding`` otherwise, priced by the
``penalty_terms`` of the contract version in force on the day it was confirmed
(:func:`fieldcollect.settlement.penalties.penalty_fen`) and charged once. Registered from
:class:`fieldcollect.qa.apps.QaConfig.ready`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from fieldcollect.qa.selectors import confirmed_findings
from fieldcollect.settlement.penalties import PenaltyEvent

SERIOUS = frozenset({"critical"})


class QaFindingSource:
    name = "qa_finding"

    def events(self, *, agency_id: int, until: date) -> Iterator[PenaltyEvent]:
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=timezone.get_default_timezone())
        start = datetime(2000, 1, 1, tzinfo=timezone.get_default_timezone())
        for f in confirmed_findings(agency_id=agency_id, start=start, end=end).select_related("recording"):
            yield PenaltyEvent(source=self.name, ref=str(f.pk), agency_id=agency_id,
                               kind="qa_finding_serious" if f.severity in SERIOUS else "qa_finding",
                               occurred_on=timezone.localtime(f.confirmed_at).date(), case_id=f.recording.case_id,
                               detail=f.category)
