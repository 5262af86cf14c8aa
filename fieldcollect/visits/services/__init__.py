"""Writes on field visits. Keyword-only functions; each runs in one transaction and writes its audit
row in it. Permission to see a case is checked by the caller (``access_case_by_id``); the role
checks for acting are made here.

Compliance: appointment windows and the visit itself are checked as a contact on channel ``visit``
by :func:`fieldcollect.compliance.services.contact_decision` with the pack of the loan's
jurisdiction; a refusal is stored as a blocked attempt and raised as any refused contact (422
``compliance.blocked``), with the rule's explanation in the current language.

The public service functions, by concern:

* :mod:`~fieldcollect.visits.services.teams`: shifts and teams of two;
* :mod:`~fieldcollect.visits.services.appointments`: windows, the customer's link, reminders;
* :mod:`~fieldcollect.visits.services.route_plans`: a team's day planned and re-planned;
* :mod:`~fieldcollect.visits.services.checkin`: where the collector is at a visit;
* :mod:`~fieldcollect.visits.services.reports`: visit reports and their evidence;
* :mod:`~fieldcollect.visits.services.feedback`: the customer's feedback;
* :mod:`~fieldcollect.visits.services.permits`: the signed visit permit of each stop of a published plan;
* :mod:`~fieldcollect.visits.services.field`: the collector app's sync of queued actions and chunked uploads;
* :mod:`~fieldcollect.visits.services.common`: what they share (links' public address, checks).

Import them from here (``from fieldcollect.visits import services``; ``services.appointment_propose``).
"""

from __future__ import annotations

from fieldcollect.visits.services.appointments import (
    LINK_TTL,
    MAX_WINDOW,
    appointment_cancel,
    appointment_confirm,
    appointment_decline,
    appointment_from_token,
    appointment_links_send_held,
    appointment_propose,
    appointment_suggest,
    reminders_enqueue,
    window_check,
    window_refusal,
)
from fieldcollect.visits.services.checkin import GEOFENCE_M, MAX_SPEED_KMH, checkin_record, geofence_m
from fieldcollect.visits.services.common import appointment_windows, public_url
from fieldcollect.visits.services.feedback import (
    FEEDBACK_MIN_GAP,
    FEEDBACK_TTL,
    feedback_from_token,
    feedback_reissue,
    feedback_requests_for_conversations,
    feedback_respond,
)
from fieldcollect.visits.services.field import (
    field_case,
    field_sync,
    repay_url,
    report_try_close,
)
from fieldcollect.visits.services.permits import permit_check, permit_recheck, permit_token, permits_issue
from fieldcollect.visits.services.reports import (
    evidence_add,
    evidence_add_staged,
    evidence_check_can_add,
    evidence_open,
    missing_evidence,
    report_close,
    report_met_check,
    report_start,
    visit_conditions,
)
from fieldcollect.visits.services.route_plans import (
    SERVICE_MINUTES,
    VISIT_RECOVERY_RATE,
    pack_requires,
    route_plan_build,
    route_plan_replan,
    route_plans_build,
)
from fieldcollect.visits.services.teams import (
    DEFAULT_SHIFT,
    shift_set,
    team_create,
    team_of,
    teams_pair_automatically,
)
from fieldcollect.visits.services.uploads import upload_chunk, upload_open

__all__ = [
    "DEFAULT_SHIFT",
    "FEEDBACK_MIN_GAP",
    "FEEDBACK_TTL",
    "GEOFENCE_M",
    "LINK_TTL",
    "MAX_SPEED_KMH",
    "MAX_WINDOW",
    "SERVICE_MINUTES",
    "VISIT_RECOVERY_RATE",
    "appointment_cancel",
    "appointment_confirm",
    "appointment_decline",
    "appointment_from_token",
    "appointment_links_send_held",
    "appointment_propose",
    "appointment_suggest",
    "appointment_windows",
    "checkin_record",
    "evidence_add",
    "evidence_add_staged",
    "evidence_check_can_add",
    "evidence_open",
    "feedback_from_token",
    "feedback_reissue",
    "feedback_requests_for_conversations",
    "feedback_respond",
    "field_case",
    "field_sync",
    "geofence_m",
    "missing_evidence",
    "pack_requires",
    "permit_check",
    "permit_recheck",
    "permit_token",
    "permits_issue",
    "public_url",
    "reminders_enqueue",
    "repay_url",
    "report_close",
    "report_met_check",
    "report_start",
    "report_try_close",
    "route_plan_build",
    "route_plan_replan",
    "route_plans_build",
    "shift_set",
    "team_create",
    "team_of",
    "teams_pair_automatically",
    "upload_chunk",
    "upload_open",
    "visit_conditions",
    "window_check",
    "window_refusal",
]
