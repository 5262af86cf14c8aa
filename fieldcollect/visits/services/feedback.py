"""Feedback requests: the customer's signed link to rate a visit or a conversation, and the answer."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Collector
from fieldcollect.audit.services import audit_log
from fieldcollect.cases.models import Case, ContactAttempt
from fieldcollect.core.errors import ApplicationError, ConflictError
from fieldcollect.outbox.services import outbox_enqueue
from fieldcollect.visits import links
from fieldcollect.visits.errors import VisitErrorCode as E
from fieldcollect.visits.models import FeedbackRequest, VisitReport
from fieldcollect.visits.services.common import local_tz, public_url

FEEDBACK_TTL = timedelta(days=14)


def feedback_from_token(token: str, *, now: datetime | None = None) -> FeedbackRequest:
    payload = links.read_token(token, purpose="feedback", now=now)
    feedback = FeedbackRequest.objects.filter(pk=payload.object_id).first()
    if feedback is None or feedback.nonce != payload.nonce or feedback.token_hash != links.token_hash(token):
        raise links.LinkInvalid("no such feedback request")
    return feedback


def feedback_issue(*, case: Case, now: datetime, report: VisitReport | None = None,
                    contact: ContactAttempt | None = None,
                    collector: Collector | None = None) -> tuple[FeedbackRequest, str]:
    """Create a feedback request and queue its signed link to the customer (zh-Hans SMS). Call inside
    the caller's transaction."""
    collector = collector or (contact.collector if contact is not None else None)
    agency_id = collector.agency_id if collector is not None else (contact.agency_id if contact else None)
    channel = "visit" if report is not None else (contact.channel if contact is not None else "visit")
    feedback = FeedbackRequest.objects.create(case=case, report=report, contact=contact, channel=channel,
                                              collector=collector, agency_id=agency_id, nonce=links.new_nonce(),
                                              expires_at=now + FEEDBACK_TTL)
    token = links.make_token(purpose="feedback", object_id=feedback.pk, nonce=feedback.nonce,
                             expires_at=feedback.expires_at)
    feedback.token_hash = links.token_hash(token)
    feedback.save(update_fields=["token_hash"])
    url = public_url(reverse("visits:feedback", args=[token]))
    with translation.override("zh-hans"):
        if report is not None:
            body = _("Thank you for receiving our visit. Tell the bank how it went: %(url)s") % {"url": url}
        else:
            body = _("You recently spoke with the bank's collection team. Tell the bank how it went: %(url)s") % {
                "url": url}
    outbox_enqueue(to=case.customer.mobile, body=body, kind="feedback", case_id=case.pk)
    return feedback, token


def feedback_reissue(*, feedback: FeedbackRequest, now: datetime | None = None) -> str:
    """A new link for ``feedback`` valid :data:`FEEDBACK_TTL` from now (the older links stop working);
    used to let the customer answer a complaint's resolution. Call inside the caller's transaction."""
    now = now or timezone.now()
    locked = FeedbackRequest.objects.select_for_update().get(pk=feedback.pk)
    locked.nonce = links.new_nonce()
    locked.expires_at = max(locked.expires_at, now + FEEDBACK_TTL)
    token = links.make_token(purpose="feedback", object_id=locked.pk, nonce=locked.nonce, expires_at=locked.expires_at)
    locked.token_hash = links.token_hash(token)
    locked.save(update_fields=["nonce", "expires_at", "token_hash"])
    audit_log(actor=None, action="feedback.reissue", object_type="feedback", object_id=locked.pk,
              new={"expires_at": locked.expires_at.isoformat()})
    return token


FEEDBACK_MIN_GAP = timedelta(days=7)


def feedback_requests_for_conversations(*, as_of: date, now: datetime | None = None) -> int:
    """Nightly: ask for feedback on the day's conversations with debtors (phone, SMS, WeChat, ...).

    One request per conversation at most, for conversations with the debtor on ``as_of`` (bank's local
    day) that are not visits (a closed visit report asks by itself); a customer asked in the last
    :data:`FEEDBACK_MIN_GAP` days, or asked twice the same night, is not asked again. Idempotent.
    Returns the number of requests made.
    """
    now = now or timezone.now()
    tz = local_tz()
    start = datetime.combine(as_of, time(0), tzinfo=tz)
    end = start + timedelta(days=1)
    rows = list(ContactAttempt.objects.filter(
        at__gte=start, at__lt=end, conversation=True, party="debtor", feedback_request__isnull=True,
    ).exclude(channel="visit").select_related("case__customer", "collector").order_by("at", "id"))
    if not rows:
        return 0
    recent = set(FeedbackRequest.objects.filter(
        created_at__gte=now - FEEDBACK_MIN_GAP, case__customer_id__in={r.case.customer_id for r in rows},
    ).values_list("case__customer_id", flat=True))
    made = 0
    with transaction.atomic():
        for contact in rows:
            customer_id = contact.case.customer_id
            if customer_id in recent or not contact.case.customer.mobile:
                continue
            recent.add(customer_id)
            feedback_issue(case=contact.case, contact=contact, now=now)
            made += 1
        if made:
            audit_log(actor=None, action="feedback.request_conversations", object_type="daily",
                      object_id=as_of.isoformat(), new={"requests": made})
    return made


def feedback_respond(*, feedback: FeedbackRequest, rating: int, comment: str = "", polite: bool | None = None,
                     clear: bool | None = None, privacy_respected: bool | None = None,
                     felt_threatened: bool | None = None, now: datetime | None = None) -> FeedbackRequest:
    """Record the customer's answer once (a second answer is a conflict)."""
    if not 1 <= rating <= 5:
        raise ApplicationError(_("Choose a rating from 1 to 5."), code=E.FEEDBACK_RATING)
    with transaction.atomic():
        locked = FeedbackRequest.objects.select_for_update().get(pk=feedback.pk)
        if locked.responded_at is not None:
            raise ConflictError(_("Thank you, your feedback was already received."), code=E.FEEDBACK_ANSWERED)
        locked.rating = rating
        locked.polite = polite
        locked.clear = clear
        locked.privacy_respected = privacy_respected
        locked.felt_threatened = felt_threatened
        locked.comment = comment.strip()[:2000]
        locked.responded_at = now or timezone.now()
        locked.save(update_fields=["rating", "polite", "clear", "privacy_respected", "felt_threatened", "comment",
                                   "responded_at"])
        audit_log(actor=None, actor_label="customer", action="feedback.respond", object_type="feedback",
                  object_id=locked.pk,
                  new={"rating": rating, "polite": polite, "clear": clear, "privacy_respected": privacy_respected,
                       "felt_threatened": felt_threatened})
    return locked
