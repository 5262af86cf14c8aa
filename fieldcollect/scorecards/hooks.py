"""Optional sources of scorecard figures that other apps own (complaints, compliance, feedback, the
confirmed conduct findings of quality inspection).

An app registers a function at start-up (in its ``AppConfig.ready``)::

    from fieldcollect.scorecards import hooks
    hooks.register("complaints", lambda *, agency_id, start, end: Complaint.objects.filter(...).count())

Without a registered hook the scorecard falls back to model fields when they exist (a ``blocked``
boolean on ``cases.ContactAttempt`` for compliance blocks) and otherwise shows complaints, blocks and
conduct findings as 0 and the feedback score as "not available" (``None``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fieldcollect.cases.models import ContactAttempt

HookFn = Callable[..., float | int | None]
_HOOKS: dict[str, HookFn] = {}
KINDS = ("complaints", "compliance_blocks", "feedback_score", "conduct_findings")


def register(kind: str, fn: HookFn) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown hook {kind!r}; one of {KINDS}")
    _HOOKS[kind] = fn


def unregister(kind: str) -> None:
    _HOOKS.pop(kind, None)


def complaints(*, agency_id: int, start: date, end: date) -> int:
    fn = _HOOKS.get("complaints")
    return int(fn(agency_id=agency_id, start=start, end=end) or 0) if fn else 0


def compliance_blocks(*, agency_id: int, start: date, end: date) -> int:
    fn = _HOOKS.get("compliance_blocks")
    if fn is not None:
        return int(fn(agency_id=agency_id, start=start, end=end) or 0)
    names = {f.name for f in ContactAttempt._meta.get_fields()}
    if "blocked" in names:
        return ContactAttempt.objects.filter(agency_id=agency_id, at__date__gte=start, at__date__lte=end,
                                             **{"blocked": True}).count()
    return 0


def feedback_score(*, agency_id: int, start: date, end: date) -> float | None:
    fn = _HOOKS.get("feedback_score")
    if fn is None:
        return None
    value = fn(agency_id=agency_id, start=start, end=end)
    return None if value is None else float(value)


def conduct_findings(*, agency_id: int, start: date, end: date) -> int:
    """Confirmed conduct findings in force of the agency in ``[start, end]`` (days; quality inspection
    registers it)."""
    fn = _HOOKS.get("conduct_findings")
    return int(fn(agency_id=agency_id, start=start, end=end) or 0) if fn else 0
