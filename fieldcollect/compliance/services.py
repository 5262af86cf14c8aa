"""Writes of the compliance app: debtor flags (add, lift) and refused contacts (blocked attempts).

Keyword-only functions; each runs in one ``transaction.atomic`` and writes its audit row in it.

Who may write flags
    Flags that only *restrict* contact or placement (complaint, dispute, cease, attorney, deceased,
    bankrupt, third_party_cease) may be added by anyone who works cases (a collector who hears "stop calling
    me" must record it at once) and by the system (``acting_user=None``, e.g. the complaints
    service). Flags that *loosen* a rule (consent_hours, no_valid_number) and every lift need a
    bank compliance officer or collections manager (or the system).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Collector
from fieldcollect.audit.services import audit_log, snapshot
from fieldcollect.cases.access import require_capability
from fieldcollect.cases.errors import CaseErrorCode
from fieldcollect.cases.models import Case, Party
from fieldcollect.compliance.audit import replay_decision, replay_pack
from fieldcollect.compliance.engine import (
    ContactRequest,
    DebtorHistory,
    Decision,
    LedgerEntry,
    check,
    normalise_phone,
    notice_ready_at,
    zone,
)
from fieldcollect.compliance.errors import ComplianceErrorCode
from fieldcollect.compliance.models import BlockedAttempt, DebtorFlag, FlagKind, OutsourcingNotice
from fieldcollect.compliance.packs import RulePack, available_packs
from fieldcollect.compliance.selectors import (
    ENGINE_CHANNEL,
    debtor_flags,
    debtor_ledger,
    engine_channel,
    engine_party,
    flags_of,
    ledgers_of,
    lookback,
    notices_sent,
    pack_for,
    phone_lookback,
)
from fieldcollect.core.bank_time import bank_time_zone_name
from fieldcollect.core.errors import ApplicationError, CommonErrorCode, ConflictError, PermissionDeniedError
from fieldcollect.core.models import Role, User
from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.portfolio.models import Customer

FLAG_FIELDS = ["customer", "flag", "phone", "starts_at", "ends_at", "reason", "source", "created_by",
               "lifted_by", "lifted_at", "lift_reason"]
RESTRICTIVE_FLAGS = frozenset({FlagKind.COMPLAINT, FlagKind.DISPUTE, FlagKind.CEASE, FlagKind.ATTORNEY,
                               FlagKind.DECEASED, FlagKind.BANKRUPT, FlagKind.THIRD_PARTY_CEASE})
FLAG_MANAGERS = frozenset({Role.COMPLIANCE_OFFICER, Role.COLLECTIONS_MANAGER})
FLAG_REPORTERS = FLAG_MANAGERS | {Role.AGENCY_MANAGER, Role.FIELD_COLLECTOR}


def can_manage_flags(user: User | None) -> bool:
    """Whether ``user`` may add any flag and lift flags (``None`` is the system)."""
    return user is None or user.is_superuser or user.role in FLAG_MANAGERS


def can_report_flags(user: User | None) -> bool:
    """Whether ``user`` may add some flag: any flag (:func:`can_manage_flags`), or a flag that stops
    contact (the agency's people)."""
    return can_manage_flags(user) or (user is not None and user.role in FLAG_REPORTERS)


def _require_flag_right(user: User | None, flag: str) -> None:
    if can_manage_flags(user):
        return
    assert user is not None
    if flag in RESTRICTIVE_FLAGS and user.role in FLAG_REPORTERS:
        return
    raise PermissionDeniedError(_("Your role may not do this."), code=CommonErrorCode.PERMISSION_DENIED,
                                extra={"capability": "compliance.flag"})


def flag_add(*, customer: Customer, flag: str, starts_at: datetime, ends_at: datetime | None = None,
             reason: str, acting_user: User | None, phone: str = "", source: str = "") -> DebtorFlag:
    """Record a flag on the debtor ``customer``, active on ``[starts_at, ends_at)`` (open when ``None``).

    The flag applies to every case of the customer and to the bank and every agency. A
    ``third_party_cease`` flag needs the third party's ``phone``. ``source`` says where it came from
    (e.g. ``"complaint:42"``). Raises :class:`ApplicationError` on invalid input.
    """
    _require_flag_right(acting_user, flag)
    if flag not in FlagKind.values:
        raise ApplicationError(_("Unknown flag."), code=ComplianceErrorCode.FLAG_INVALID, extra={"flag": flag})
    if timezone.is_naive(starts_at) or (ends_at is not None and timezone.is_naive(ends_at)):
        raise ApplicationError(_("Times must carry a time zone."), code=ComplianceErrorCode.FLAG_NAIVE)
    if ends_at is not None and ends_at <= starts_at:
        raise ApplicationError(_("The end must be after the start."), code=ComplianceErrorCode.FLAG_EMPTY_PERIOD)
    reason = reason.strip()
    if not reason:
        raise ApplicationError(_("Give a reason."), code=ComplianceErrorCode.FLAG_NO_REASON)
    phone = (normalise_phone(phone) or "")[:32]
    if flag == FlagKind.THIRD_PARTY_CEASE and not phone:
        raise ApplicationError(_("Give the third party's phone number."), code=ComplianceErrorCode.FLAG_NO_PHONE)
    with transaction.atomic():
        row = DebtorFlag.objects.create(
            customer=customer, flag=flag, phone=phone, starts_at=starts_at, ends_at=ends_at,
            reason=reason[:500], source=source[:64], created_by=acting_user,
        )
        audit_log(actor=acting_user, action="compliance.flag_add", object_type="debtor_flag", object_id=row.pk,
                  new=snapshot(row, FLAG_FIELDS))
    return row


def flag_lift(*, flag: DebtorFlag, acting_user: User | None, reason: str,
              at: datetime | None = None) -> DebtorFlag:
    """End ``flag`` at ``at`` (now by default). Only compliance officers, collections managers or the system."""
    if not can_manage_flags(acting_user):
        raise PermissionDeniedError(_("Your role may not do this."), code=CommonErrorCode.PERMISSION_DENIED,
                                    extra={"capability": "compliance.flag_lift"})
    reason = reason.strip()
    if not reason:
        raise ApplicationError(_("Give a reason."), code=ComplianceErrorCode.FLAG_NO_REASON)
    when = at or timezone.now()
    with transaction.atomic():
        locked = DebtorFlag.objects.select_for_update().get(pk=flag.pk)
        if locked.lifted_at is not None or (locked.ends_at is not None and locked.ends_at <= when):
            raise ConflictError(_("The flag has already ended."), code=ComplianceErrorCode.FLAG_ENDED, extra={"flag_id": locked.pk})
        old = snapshot(locked, FLAG_FIELDS)
        # lifted before it starts: the row stays for the record and never applies (the selector
        # skips flags lifted at or before their start; the constraint wants ends_at > starts_at)
        locked.ends_at = when if when > locked.starts_at else locked.starts_at + timedelta(microseconds=1)
        locked.lifted_at = when
        locked.lifted_by = acting_user
        locked.lift_reason = reason[:500]
        locked.save(update_fields=["ends_at", "lifted_at", "lifted_by", "lift_reason"])
        audit_log(actor=acting_user, action="compliance.flag_lift", object_type="debtor_flag",
                  object_id=locked.pk, old=old, new=snapshot(locked, FLAG_FIELDS))
    flag.refresh_from_db()
    return locked



# ---------------------------------------------------------------- pre-contact check

@dataclass(frozen=True)
class ContactVerdict:
    """The engine's decision on one contact, with the explanations in the caller's language."""

    decision: Decision
    lang: str

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def rule_ids(self) -> list[str]:
        return list(self.decision.rule_ids)

    @property
    def explanations(self) -> list[str]:
        return self.decision.explain(self.lang)

    @property
    def next_allowed_at(self) -> datetime | None:
        return self.decision.next_allowed_at

    def as_dict(self) -> dict[str, Any]:
        nxt = self.next_allowed_at
        return {"allowed": self.allowed, "rule_ids": self.rule_ids, "explanations": self.explanations,
                "next_allowed_at": nxt.isoformat() if nxt is not None else None, "pack": self.decision.pack}


class ContactBlockedError(ApplicationError):
    """A contact refused by the compliance rules (HTTP 422); ``extra`` has rule_ids, explanations,
    next_allowed_at, pack and blocked_attempt_id."""

    status_code = 422


def current_language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def contact_decision(*, case: Case, channel: str, party: str = "debtor", number: str = "",
                     at: datetime | None = None, collectors: int | None = None, recording: bool | None = None,
                     appointment_confirmed: bool | None = None, request_id: str = "contact",
                     agency_id: int | None = None, collector: Collector | None = None) -> ContactVerdict:
    """Check a contact with ``case``'s debtor against the pack of the loan's jurisdiction.

    Reads the debtor's ledger across all their cases and all agencies (one query) and their flags
    (one query). ``case`` should come with ``customer`` and ``loan`` loaded (``select_related``).
    ``channel`` is a case-management channel (``phone``, ``sms``, ``wechat``...) or an engine one.
    ``agency_id`` names the agency making the contact (``None``: the bank): under a pack with the
    notice rule it waits for the notice naming the agency (:func:`outsourcing_notice_ensure`).
    ``collector`` names the collector making a contact other than a visit (a call, a text): unless
    ``collectors`` is given, it becomes ``collectors`` 1 or 0 by :func:`collectors_qualified` on the
    contact's date in the debtor's local time (a lapsed or suspended certificate: refused by the
    ``collector_certified`` rule).
    """
    when = at or timezone.now()
    if timezone.is_naive(when):
        raise ApplicationError(_("Times must carry a time zone."), code=CaseErrorCode.CONTACT_NAIVE)
    customer = case.customer
    tz = customer.timezone or bank_time_zone_name()
    local_day = when.astimezone(zone(tz)).date()
    if collectors is None and collector is not None:
        collectors = collectors_qualified([collector], on=local_day)
    # the pack version in force on the contact's own date (the debtor's local date) decides
    pack = pack_for(case.loan.jurisdiction, on=local_day)
    since = when - lookback(pack)
    request = ContactRequest(
        request_id=request_id, debtor_id=str(customer.pk), tz=tz,
        channel=engine_channel(channel), party=engine_party(party), at=when,
        phone=default_number(case=case, channel=channel, party=party, number=number) or None,
        collectors=collectors, recording=recording, appointment_confirmed=appointment_confirmed,
        agency_id=str(agency_id) if agency_id is not None else None,
        notice_sent_at=notice_sent_at(customer_id=customer.pk, agency_id=agency_id)
        if agency_id is not None and notice_rule_in_force(pack) else None,
    )
    # an attempt logged after the fact sits among later ones: the windows around it reach as far
    # forward as back, and nothing further ahead is read (or decrypted)
    numbers = phone_lookback(pack)
    ledger = debtor_ledger(customer_id=customer.pk, since=since, until=when + (when - since),
                           numbers_since=when - numbers, numbers_until=when + numbers)
    decision = check(request=request, ledger=ledger,
                     flags=debtor_flags(customer_ids=[customer.pk], since=since), pack=pack)
    return ContactVerdict(decision=decision, lang=current_language())


def collectors_qualified(collectors: Iterable[Collector], *, on: date) -> int:
    """How many of ``collectors`` hold a valid certificate and training on ``on`` (the ``collectors``
    input of the engine): the one reading of the training records (:meth:`Collector.qualified_on`,
    kept by :mod:`fieldcollect.qa.training`) for a visit team and for a collector's call alike."""
    return sum(1 for c in collectors if c.qualified_on(on))


def acting_agency_id(user: User | None) -> int | None:
    """The agency a contact is made for: an agency user's own (``None``: the bank or the system)."""
    return user.agency_id if user is not None and user.is_agency_user else None


def default_number(*, case: Case, channel: str, party: str, number: str) -> str:
    """The number a contact used: as given, else the debtor's own mobile for a call or text to them."""
    if number:
        return number.strip()[:32]
    if party == "debtor" and engine_channel(channel) in {"call", "sms"}:
        return (normalise_phone(str(getattr(case.customer, "mobile", "") or "")) or "")[:32]
    return ""


def blocked_attempt_record(*, verdict: ContactVerdict, case: Case, acting_user: User | None, channel: str,
                           party: str, number: str, at: datetime, path: str, once: bool = False) -> BlockedAttempt:
    """Store a refused contact and its audit row (own transaction: call it outside the refused one)."""
    return blocked_attempt_store(decision=verdict.decision, customer_id=case.customer_id, case=case,
                                 acting_user=acting_user, channel=channel, party=party, number=number, at=at,
                                 path=path, once=once)


def blocked_attempt_store(*, decision: Decision, customer_id: int, case: Case | None, acting_user: User | None,
                          channel: str, party: str, number: str, at: datetime, path: str,
                          once: bool = False) -> BlockedAttempt:
    """Store a refused contact of the debtor ``customer_id`` (``case`` when there is one; ``acting_user``
    ``None`` is the system) and its audit row, in one transaction.

    With ``once=True`` (batch jobs that retry a held message every few minutes) a refusal equal to an
    earlier one (same customer, case, path, channel, rules and ``next_allowed_at``) is not stored
    again: the earlier row is returned.
    """
    d = decision
    agency_id = acting_user.agency_id if acting_user is not None and acting_user.is_agency_user else None
    with transaction.atomic():
        if once:
            same = (BlockedAttempt.objects.filter(customer_id=customer_id, case=case, path=path[:32], channel=channel,
                                                  next_allowed_at=d.next_allowed_at)
                    .order_by("-id").only("id", "rule_ids").first())
            if same is not None and list(same.rule_ids) == list(d.rule_ids):
                return same
        row = BlockedAttempt.objects.create(
            at=at, user=acting_user, agency_id=agency_id, case=case, customer_id=customer_id,
            channel=channel, party=party, number=number[:32], path=path[:32], rule_ids=list(d.rule_ids),
            explanation=" ".join(d.explain("en")), explanation_zh=" ".join(d.explain("zh-Hans")),
            next_allowed_at=d.next_allowed_at, pack=d.pack,
        )
        object_type, object_id = ("case", case.pk) if case is not None else ("customer", customer_id)
        audit_log(actor=acting_user, action="compliance.blocked", object_type=object_type, object_id=object_id,
                  new={"blocked_attempt": row.pk, "channel": channel, "party": party, "path": path,
                       "at": at.isoformat(), "rule_ids": list(d.rule_ids), "pack": d.pack})
    return row


def sms_decision(*, case: Case, at: datetime | None = None) -> ContactVerdict:
    """May a text message go to ``case``'s debtor (own mobile) at ``at`` (the send time)?

    For messages the system queues to the customer (appointment links, visit reminders): contact
    hours in the debtor's local time, pauses, cease... of the pack of the loan's jurisdiction.
    """
    return contact_decision(case=case, channel="sms", party="debtor", at=at, request_id="sms")


def blocked_error(verdict: ContactVerdict, *, blocked: BlockedAttempt | None = None,
                  code: str = ComplianceErrorCode.BLOCKED) -> ContactBlockedError:
    """The refusal raised to the page or the API, explained in the caller's language."""
    text = " ".join(verdict.explanations)
    extra = verdict.as_dict()
    extra.pop("allowed")
    if blocked is not None:
        extra["blocked_attempt_id"] = blocked.pk
    message = _("Not allowed by the compliance rules (%(rules)s): %(why)s") % {
        "rules": ", ".join(verdict.rule_ids), "why": text}
    nxt = verdict.next_allowed_at
    if nxt is not None:
        message += " " + _("Next allowed at %(when)s (debtor's local time).") % {
            "when": nxt.strftime("%Y-%m-%d %H:%M %Z")}
    else:
        message += " " + _("Not allowed again on the current record.")
    return ContactBlockedError(message, code=code, extra=extra)


def contact_guard(*, case: Case, acting_user: User | None, channel: str, party: str = "debtor",
                  number: str = "", at: datetime | None = None, path: str,
                  code: str = ComplianceErrorCode.BLOCKED, **visit: Any) -> ContactVerdict:
    """Check a contact and, when blocked, store it and raise :class:`ContactBlockedError`.

    Call it outside any transaction that the refusal would roll back (the blocked attempt must stay).
    ``visit`` may carry ``collectors``, ``recording``, ``appointment_confirmed``.
    """
    when = at or timezone.now()
    verdict = contact_decision(case=case, channel=channel, party=party, number=number, at=when,
                               agency_id=acting_agency_id(acting_user), **visit)
    if not verdict.allowed:
        contact_refuse(verdict=verdict, case=case, acting_user=acting_user, channel=channel, party=party,
                       number=number, at=when, path=path, code=code)
    return verdict


def contact_refuse(*, verdict: ContactVerdict, case: Case, acting_user: User | None, channel: str,
                   party: str = "debtor", number: str = "", at: datetime, path: str,
                   code: str = ComplianceErrorCode.BLOCKED) -> NoReturn:
    """Store the refused contact ``verdict`` (checked at ``at``) as a blocked attempt and raise it as
    :class:`ContactBlockedError`. Call it outside any transaction that the refusal would roll back."""
    row = blocked_attempt_record(verdict=verdict, case=case, acting_user=acting_user, channel=channel, party=party,
                                 number=default_number(case=case, channel=channel, party=party, number=number),
                                 at=at, path=path)
    raise blocked_error(verdict, blocked=row, code=code)


def contact_check(*, case: Case, acting_user: User, channel: str, party: str = "debtor", number: str = "",
                  at: datetime | None = None) -> ContactVerdict:
    """Would this contact be allowed? For dialers and schedulers before they act.

    A check is a question, not an attempt: a blocked answer is not stored (the attempt that follows,
    if any, is checked and stored by :func:`fieldcollect.cases.services.contact_record`).
    """
    require_capability(acting_user, "case.contact")
    if channel not in ENGINE_CHANNEL:
        raise ApplicationError(_("Unknown channel."), code=CaseErrorCode.CONTACT_INVALID_CHANNEL, extra={"channel": channel})
    if party not in Party.values and party != "third_party":
        raise ApplicationError(_("Unknown party."), code=CaseErrorCode.CONTACT_INVALID_PARTY, extra={"party": party})
    return contact_decision(case=case, channel=channel, party=party, number=number, at=at,
                            agency_id=acting_agency_id(acting_user))


# ---------------------------------------------------------------- contacts reported after they happened

@dataclass(frozen=True)
class ReportedContact:
    """A contact someone reports after it happened (an agency's imported work result), to be checked
    at its own time. ``key`` is the caller's (e.g. the file row)."""

    key: int
    customer_id: int
    tz: str
    jurisdiction: str
    channel: str
    party: str
    at: datetime
    number: str = ""
    connected: bool = False
    conversation: bool = False
    agency_id: int | None = None
    # the agency's collector who made it (a call, a text): checked against their certificate on the
    # contact's local date, as a call recorded live is
    collector: Collector | None = None


def reported_contacts_breaches(contacts: Sequence[ReportedContact]) -> dict[int, tuple[str, ...]]:
    """The rules each contact of ``contacts`` broke when it happened: checked by the engine against the
    debtor's ledger across the bank and all agencies and their flags *at the contact's own time* (the
    rows of the ledger before it, and the reported contacts before it), as the daily audit replays the
    ledger (:func:`fieldcollect.compliance.audit.replay_decision`). A reported contact is not refused
    (it already happened): the caller records it with its breach. Returns ``key -> rule ids`` for the
    contacts that broke a rule, among them an agency's contact before the notice before outsourcing
    naming it and its waiting days. Three queries per 5,000 debtors (ledgers, flags, notices)."""
    if not contacts:
        return {}
    by_debtor: dict[str, list[ReportedContact]] = {}
    for c in contacts:
        by_debtor.setdefault(str(c.customer_id), []).append(c)
    # the pack version in force on each contact's own (local) date decides
    def pack_key(c: ReportedContact) -> tuple[str, date]:
        return c.jurisdiction or "CN", c.at.astimezone(zone(c.tz or bank_time_zone_name())).date()

    packs = {key: pack_for(key[0], on=key[1]) for key in {pack_key(c) for c in contacts}}
    reach = max(lookback(p) for p in packs.values())
    lo = min(c.at for c in contacts) - reach
    hi = max(c.at for c in contacts) + timedelta(microseconds=1)
    ids = [int(d) for d in by_debtor]
    ledgers = ledgers_of(customer_ids=ids, since=lo, until=hi)
    flags = flags_of(customer_ids=ids, since=lo)
    replayed = {key: replay_pack(p) for key, p in packs.items()}
    # an agency's contact before the notice naming it (and its waiting days) is a breach as any other
    notices = notices_sent(customer_ids=ids) if any(c.agency_id is not None for c in contacts) else {}
    out: dict[int, tuple[str, ...]] = {}
    for debtor, mine in by_debtor.items():
        events: list[tuple[LedgerEntry, int | None]] = [(e, None) for e in ledgers.get(debtor, [])]
        for c in mine:
            events.append((LedgerEntry(
                debtor_id=debtor, channel=engine_channel(c.channel), party=engine_party(c.party), at=c.at,
                phone=normalise_phone(c.number), connected=c.connected or c.conversation,
                conversation=c.conversation,
                agency_id=str(c.agency_id) if c.agency_id is not None else None), c.key))
        events.sort(key=lambda pair: pair[0].at)  # stable: the ledger's rows before reported ones at a tie
        rows = [e for e, _ in events]
        key_of = {c.key: pack_key(c) for c in mine}
        collector_of = {c.key: c.collector for c in mine}
        channel_of = {c.key: c.channel for c in mine}
        tz = mine[0].tz or bank_time_zone_name()
        known = DebtorHistory.build(debtor_id=debtor, ledger=rows, flags=())  # the same order (a stable sort)
        known.local_dates(tz)  # computed once, sliced for each contact's history
        mine_flags = flags.get(debtor, [])
        for i, (_e, key) in enumerate(events):
            if key is None:
                continue
            named = collector_of.get(key)
            qualified = (collectors_qualified([named], on=key_of[key][1])
                         if named is not None and engine_channel(channel_of[key]) != "visit" else None)
            decision = replay_decision(events=rows, i=i, flags=mine_flags, tz=tz, pack=replayed[key_of[key]],
                                       known=known, notices=notices, collectors=qualified)
            if not decision.allowed:
                out[key] = decision.rule_ids
    return out


# ---------------------------------------------------------------- notice before outsourcing

NOTICE_KIND = "outsourcing_notice"


def notice_rule_in_force(pack: RulePack) -> bool:
    """Whether ``pack`` has an enabled ``outsourcing_notice`` rule (notices are sent, agencies wait)."""
    return any(r.kind == "outsourcing_notice" for r in pack.active_rules)


def notice_required_somewhere(*, on: date) -> bool:
    """Whether the version in force on ``on`` of any shipped pack has the notice rule (placements in
    bulk skip the per-case look-up otherwise)."""
    return any(notice_rule_in_force(pack_for(code, on=on)) for code in available_packs())


def outsourcing_notice_ensure(*, case: Case, agency_id: int, agency_name: str, on: date) -> OutsourcingNotice | None:
    """Queue, in the caller's transaction (the placement's), the text telling ``case``'s debtor that the
    debt is handled by the agency, unless one was already queued for this debtor and agency, or the pack
    in force on ``on`` has no notice rule. The outbox sends it after its own compliance check (contact
    hours, pauses). Returns the notice queued (``None`` when none was needed)."""
    if not notice_rule_in_force(pack_for(case.loan.jurisdiction, on=on)):
        return None
    if OutsourcingNotice.objects.filter(customer_id=case.customer_id, agency_id=agency_id).exists():
        return None
    mobile = normalise_phone(str(case.customer.mobile or "")) or ""
    body = (f"您好，您在本行的借款（编号 {case.loan_id}）已委托{agency_name}协助催收，该机构将以其名义与您联系。"
            f"还款请只通过本行指定渠道；如有疑问请致电本行客服。")
    message = OutboxMessage.objects.create(channel="sms", to=mobile[:40], body=body, kind=NOTICE_KIND, case=case)
    notice = OutsourcingNotice.objects.create(customer_id=case.customer_id, agency_id=agency_id, case=case,
                                              message=message)
    audit_log(actor=None, action="compliance.outsourcing_notice", object_type="case", object_id=case.pk,
              new={"agency": agency_id, "notice": notice.pk, "outbox": message.pk})
    return notice


def notice_guard(*, case: Case, acting_user: User | None, channel: str, at: datetime | None = None, path: str,
                 agency_id: int | None = None, **visit: Any) -> None:
    """Refuse a step of an agency toward a contact that no other check covers at that moment (a
    check-in at the debtor's door: the visit's other rules are checked when the visit starts) while
    the notice before outsourcing of the agency (``agency_id``, else the acting user's) blocks it: the
    blocked attempt is stored and :class:`ContactBlockedError` raised, with every rule that blocks, as
    any refused contact. Call it outside any transaction that the refusal would roll back."""
    agency = agency_id if agency_id is not None else acting_agency_id(acting_user)
    if agency is None:
        return
    when = at or timezone.now()
    verdict = contact_decision(case=case, channel=channel, at=when, agency_id=agency, request_id=path, **visit)
    if verdict.allowed:
        return
    pack = pack_for(case.loan.jurisdiction, on=when.astimezone(zone(case.customer.timezone or bank_time_zone_name())).date())
    notice_ids = {r.id for r in pack.active_rules if r.kind == NOTICE_KIND}
    if notice_ids & set(verdict.rule_ids):
        contact_refuse(verdict=verdict, case=case, acting_user=acting_user, channel=channel, at=when, path=path)


def notice_ready_cases(*, cases: Sequence[Case], agency_id: int, at: datetime) -> set[int]:
    """The ids of ``cases`` (with ``customer`` and ``loan`` loaded) on which the notice before outsourcing
    no longer holds back ``agency_id``'s contacts at ``at`` (sent, and its waiting days passed, by the
    engine's :func:`~fieldcollect.compliance.engine.notice_ready_at`; or no such rule in the pack in
    force): for schedulers and diallers choosing whom to call, before each contact's own check. One query."""
    sent = notices_sent(customer_ids=[c.customer_id for c in cases]) if cases else {}
    out: set[int] = set()
    for c in cases:
        tz = c.customer.timezone or bank_time_zone_name()
        pack = pack_for(c.loan.jurisdiction, on=at.astimezone(zone(tz)).date())
        rules = [r for r in pack.active_rules if r.kind == NOTICE_KIND]
        when = sent.get((str(c.customer_id), str(agency_id)))
        if not rules or (when is not None and all(
                at >= notice_ready_at(sent_at=when, waiting_days=r.waiting_days, tz=tz) for r in rules)):
            out.add(c.pk)
    return out


def notice_sent_at(*, customer_id: int, agency_id: int) -> datetime | None:
    """When the debtor was first sent the notice naming the agency (``None``: not sent yet)."""
    return (OutsourcingNotice.objects.filter(customer_id=customer_id, agency_id=agency_id,
                                             message__status=OutboxMessage.Status.SENT)
            .aggregate(first=Min("message__sent_at"))["first"])
