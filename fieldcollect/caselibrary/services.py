"""Writes on the case library (audited in the same transaction).

Who may write: the bank's collections managers and compliance officers, and agency managers (their
stories are tied to their agency). Everyone who can log in as bank staff or agency manager reads.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from fieldcollect.audit.services import audit_log, snapshot
from fieldcollect.caselibrary.errors import StoryErrorCode
from fieldcollect.caselibrary.models import AmountBand, CaseStory, Result, StoryChannel, amount_band
from fieldcollect.cases.models import Case
from fieldcollect.cases.selectors import case_timeline
from fieldcollect.core.denials import require_role
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import Role, User

WRITERS = frozenset({Role.COLLECTIONS_MANAGER, Role.COMPLIANCE_OFFICER, Role.AGENCY_MANAGER})
FIELDS = ["title", "result", "case", "agency", "bucket", "amount_band", "channel", "tags", "situation",
          "what_was_tried", "what_worked", "lessons"]
EDITABLE = [f for f in FIELDS if f not in {"case", "agency"}] + ["timeline"]


def can_write(user: User | None) -> bool:
    return user is not None and user.is_authenticated and (user.is_superuser or user.role in WRITERS)


def can_write_from_case(user: User, case: Case) -> bool:
    """Whether ``user`` may write a story from ``case`` (a closed case: :func:`story_create`)."""
    return can_write(user) and case.closed_on is not None


def can_edit(user: User, story: CaseStory) -> bool:
    if not can_write(user):
        return False
    if user.role == Role.AGENCY_MANAGER:
        return story.agency_id is not None and story.agency_id == user.agency_id
    return True


def parse_tags(value: str | list[str]) -> list[str]:
    items = value if isinstance(value, list) else value.replace("，", ",").replace("、", ",").split(",")
    out: list[str] = []
    for t in items:
        t = t.strip().lower()[:40]
        if t and t not in out:
            out.append(t)
    return out[:20]


def tags_text(tags: list[str]) -> str:
    """``" tag1 tag2 "``: a tag is matched exactly by searching ``" tag "``."""
    return (" " + " ".join(t.replace(" ", "_") for t in tags) + " ")[:1000]


def _channel_of(case: Case) -> str:
    channels = set(case.contacts.values_list("channel", flat=True))
    if not channels:
        return ""
    if len(channels) > 1:
        return StoryChannel.MIXED
    only = channels.pop()
    return only if only in StoryChannel.values else StoryChannel.MIXED


def _timeline_text(case: Case) -> str:
    """The case's events, oldest first, without free text (notes may hold personal data)."""
    lines = []
    for e in reversed(case_timeline(case=case)):
        obj = e.obj
        detail = ""
        if e.kind == "contact":
            detail = f"{obj.get_channel_display()} · {obj.get_outcome_display()}"
        elif e.kind == "promise":
            detail = f"¥{obj.amount_fen / 100:,.2f} → {obj.due_on}"
        elif e.kind == "payment":
            detail = f"¥{obj.amount_fen / 100:,.2f}"
        elif e.kind == "placement":
            detail = str(obj.agency)
        elif e.kind == "closed":
            detail = obj.get_close_reason_display()
        lines.append(f"{e.at:%Y-%m-%d} {e.kind}{(': ' + detail) if detail else ''}")
    return "\n".join(lines[-200:])


def story_prefill(*, case: Case) -> dict[str, Any]:
    """Initial values of a story written from ``case`` (its timeline, bucket, amount band, channel)."""
    paid = case.payments.exists()
    result = Result.SUCCESS if case.close_reason in {"cured", "paid", "settled"} or (paid and case.closed_on) \
        else Result.FAILURE
    return {
        "title": _("Case %(id)s: %(reason)s") % {"id": case.pk,
                                                 "reason": case.get_close_reason_display() or case.get_status_display()},
        "result": result, "bucket": case.bucket,
        "amount_band": amount_band(max(case.overdue_fen, case.outstanding_principal_fen)),
        "channel": _channel_of(case), "timeline": _timeline_text(case),
    }


def _validate(values: dict[str, Any]) -> dict[str, Any]:
    v = dict(values)
    v["title"] = str(v.get("title", "")).strip()[:200]
    v["what_was_tried"] = str(v.get("what_was_tried", "")).strip()
    if not v["title"]:
        raise ApplicationError(_("Give the story a title."), code=StoryErrorCode.TITLE)
    if v.get("result") not in Result.values:
        raise ApplicationError(_("Say whether it was a success or a failure."), code=StoryErrorCode.RESULT)
    if not v["what_was_tried"]:
        raise ApplicationError(_("Describe what was tried."), code=StoryErrorCode.TRIED)
    if v.get("amount_band") and v["amount_band"] not in AmountBand.values:
        raise ApplicationError(_("Unknown amount band."), code=StoryErrorCode.BAND)
    if v.get("channel") and v["channel"] not in StoryChannel.values:
        raise ApplicationError(_("Unknown channel."), code=StoryErrorCode.CHANNEL)
    v["tags"] = parse_tags(v.get("tags", []))
    v["bucket"] = str(v.get("bucket", "")).strip()[:8]
    return v


def story_create(*, values: dict[str, Any], acting_user: User, case: Case | None = None) -> CaseStory:
    """A story written from a closed ``case`` (prefilled with its timeline) or from scratch."""
    require_role(can_write(acting_user))
    if case is not None and case.closed_on is None:
        raise ApplicationError(_("Write a story from a closed case."), code=StoryErrorCode.CASE_OPEN)
    v = _validate(values)
    if case is not None and not v.get("timeline"):
        v["timeline"] = _timeline_text(case)
    agency_id = acting_user.agency_id if acting_user.role == Role.AGENCY_MANAGER else (case.agency_id if case else None)
    with transaction.atomic():
        story = CaseStory.objects.create(case=case, agency_id=agency_id, created_by=acting_user,
                                         **{k: v.get(k, "") for k in EDITABLE if k != "tags"}, tags=v["tags"],
                                         tags_text=tags_text(v["tags"]))
        audit_log(actor=acting_user, action="story.create", object_type="case_story", object_id=story.pk,
                  new=snapshot(story, FIELDS))
    return story


def story_update(*, story: CaseStory, values: dict[str, Any], acting_user: User) -> CaseStory:
    require_role(can_edit(acting_user, story))
    v = _validate(values)
    with transaction.atomic():
        locked = CaseStory.objects.select_for_update().get(pk=story.pk)
        old = snapshot(locked, FIELDS)
        for k in EDITABLE:
            if k in v:
                setattr(locked, k, v[k])
        locked.tags_text = tags_text(locked.tags)
        locked.save()
        audit_log(actor=acting_user, action="story.update", object_type="case_story", object_id=locked.pk,
                  old=old, new=snapshot(locked, FIELDS))
    return locked
