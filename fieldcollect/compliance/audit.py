"""After-the-fact compliance audit of the contact ledger: a daily report per agency.

For every agency and local day it gives:

* ``contacts``: contacts the agency logged;
* ``breach``: logged contacts that break a rule given the ledger before them (replayed through the
  same engine as the pre-contact check; visit requirements are not replayed because the ledger does
  not carry them);
* ``blocked``: attempts the pre-contact check refused, counted by rule;
* an agency's contact before the notice before outsourcing (and its waiting days) is a breach when the
  caller passes the notices sent (``notices``); without them that rule is not replayed;
* ``near_miss``: allowed contacts close to a limit — within ``near_miss_minutes`` inside the contact
  hours, or the contact that used up the last unit of a count cap;
* ``suspicious``: patterns, e.g. an agency's logged times bunched just inside an hours boundary
  (the share of its contacts in the last/first ``bunching_edge_minutes`` of the window is at least
  ``bunching_factor`` times what an even spread would give, with at least ``bunching_min_events``
  such contacts) — a sign that clocks or logs are being adjusted to pass the check.

Thresholds are in the pack's ``[audit]`` table. Pure: no Django, no I/O except :func:`report_csv`
which returns text.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from fieldcollect.compliance.engine import (
    ContactRequest,
    DebtorHistory,
    Decision,
    Flag,
    LedgerEntry,
    check_history,
    count_in_window,
    counted,
    normalise_phone,
    zone,
)
from fieldcollect.compliance.packs import Rule, RulePack
from fieldcollect.core.cells import safe_csv_writer

NO_AGENCY = "-"
_REPLAYED_KINDS = frozenset(
    {"contact_hours", "count_cap", "pause", "third_party_cease", "third_party_lost_contact", "outsourcing_notice",
     # only a reported contact naming its collector carries ``collectors``; the ledger's rows do not
     "collector_certified"}
)
Notices = Mapping[tuple[str, str], datetime]
"""When each debtor was first sent the notice before outsourcing naming each agency:
``(debtor id, agency id) -> sent at`` (a pair missing: not sent)."""


@dataclass(frozen=True, kw_only=True)
class BlockedAttempt:
    """An attempt the pre-contact check refused (as stored by the caller)."""

    agency_id: str | None
    debtor_id: str
    at: datetime
    rule_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One line of evidence: a breach, a near miss or a suspicious pattern."""

    kind: str  # breach | near_miss | suspicious
    agency_id: str
    day: date
    rule_id: str
    detail: str
    debtor_id: str | None = None
    at: datetime | None = None


def _contact_finding(kind: str, *, agency: str, local: datetime, rule_id: str, debtor: str, detail: str) -> Finding:
    """A finding about one contact, at its time in the debtor's zone (``local``)."""
    return Finding(kind=kind, agency_id=agency, day=local.date(), rule_id=rule_id, debtor_id=debtor, at=local,
                   detail=detail)


@dataclass(frozen=True, kw_only=True)
class AgencyDay:
    """Counts of one agency on one local day."""

    agency_id: str
    day: date
    contacts: int
    blocked_by_rule: Mapping[str, int]
    breaches_by_rule: Mapping[str, int]
    near_misses_by_rule: Mapping[str, int]
    suspicious: tuple[str, ...]

    @property
    def blocked(self) -> int:
        """All blocked attempts of the day."""
        return sum(self.blocked_by_rule.values())


@dataclass(frozen=True, kw_only=True)
class AuditReport:
    """The audit of a ledger under one pack."""

    pack: str
    days: tuple[AgencyDay, ...]
    findings: tuple[Finding, ...]

    def for_agency(self, agency_id: str) -> list[AgencyDay]:
        """The days of one agency, in date order."""
        return [d for d in self.days if d.agency_id == agency_id]


def audit_ledger(
    *,
    ledger: Iterable[LedgerEntry],
    flags: Iterable[Flag],
    blocked: Iterable[BlockedAttempt],
    pack: RulePack,
    tz_of: Callable[[str], str],
    notices: Notices | None = None,
) -> AuditReport:
    """Audit a ledger (all debtors, all agencies) after the fact.

    Parameters
    ----------
    ledger : Iterable[LedgerEntry]
        Logged contacts.
    flags : Iterable[Flag]
        Debtor flags in force over the period.
    blocked : Iterable[BlockedAttempt]
        Attempts refused by the pre-contact check.
    pack : RulePack
        The rules to audit against.
    tz_of : Callable[[str], str]
        IANA time zone of a debtor id; days are the debtor's local days.
    notices : Notices, optional
        The notices before outsourcing sent (``(debtor, agency) -> sent at``): an agency's contact
        before its notice and waiting days is a breach. ``None``: that rule is not replayed.

    Returns
    -------
    AuditReport
    """
    rows = list(ledger)
    flag_rows = list(flags)
    replayed = replay_pack(pack)
    settings = pack.audit

    contacts: Counter[tuple[str, date]] = Counter()
    blocked_n: dict[tuple[str, date], Counter[str]] = defaultdict(Counter)
    breach_n: dict[tuple[str, date], Counter[str]] = defaultdict(Counter)
    near_n: dict[tuple[str, date], Counter[str]] = defaultdict(Counter)
    findings: list[Finding] = []
    # (agency, day, rule id) -> [inside-window contacts, contacts at the edges]
    edges: dict[tuple[str, date, str], list[int]] = defaultdict(lambda: [0, 0])

    by_debtor: dict[str, list[LedgerEntry]] = defaultdict(list)
    for e in rows:
        by_debtor[e.debtor_id].append(e)
    flags_by: dict[str, list[Flag]] = defaultdict(list)
    for f in flag_rows:
        flags_by[f.debtor_id].append(f)
    hours_rules = [r for r in pack.active_rules if r.kind == "contact_hours"]
    cap_rules = [r for r in pack.active_rules if r.kind == "count_cap"]

    for debtor, events in by_debtor.items():
        tzname = tz_of(debtor)
        tz = zone(tzname)
        events.sort(key=lambda e: e.at)
        known = DebtorHistory.build(debtor_id=debtor, ledger=events, flags=())  # in the same order as events
        known.local_dates(tzname)  # computed once, sliced for each contact's replay
        for i, e in enumerate(events):
            agency = e.agency_id or NO_AGENCY
            local = e.at.astimezone(tz)
            key = (agency, local.date())
            contacts[key] += 1
            decision = replay_decision(events=events, i=i, flags=flags_by[debtor], tz=tzname, pack=replayed,
                                       known=known, notices=notices)
            for rid in decision.rule_ids:
                breach_n[key][rid] += 1
                findings.append(_contact_finding("breach", agency=agency, local=local, rule_id=rid, debtor=debtor,
                                                 detail=f"{e.channel} to {e.party} at {local:%H:%M} broke {rid}"))
            consent = e.party == "debtor" and any(f.flag == "consent_hours" and f.active_at(e.at) for f in flags_by[debtor])
            for rule in hours_rules:
                if e.channel not in rule.channels or e.party not in rule.parties:
                    continue
                near = _hours_near_miss(rule, local, settings.near_miss_minutes)
                if near and rule.id not in decision.rule_ids and not (consent and rule.consent_override):
                    near_n[key][rule.id] += 1
                    findings.append(_contact_finding("near_miss", agency=agency, local=local, rule_id=rule.id,
                                                     debtor=debtor, detail=near))
                inside, edge = _edge(rule, local, settings.bunching_edge_minutes)
                if inside:
                    cell = edges[(agency, local.date(), rule.id)]
                    cell[0] += 1
                    cell[1] += int(edge)
            for rule in cap_rules:
                if rule.cap < 2 or rule.id in decision.rule_ids or e.channel not in rule.channels or e.party not in rule.parties:
                    continue
                used = _cap_usage(rule, known, i, tzname)
                if used == rule.cap:
                    near_n[key][rule.id] += 1
                    detail = f"used the last of {rule.cap} ({rule.count}, {rule.window_days} day window)"
                    findings.append(_contact_finding("near_miss", agency=agency, local=local, rule_id=rule.id,
                                                     debtor=debtor, detail=detail))

    for b in blocked:
        tz = zone(tz_of(b.debtor_id))
        key = (b.agency_id or NO_AGENCY, b.at.astimezone(tz).date())
        for rid in b.rule_ids:
            blocked_n[key][rid] += 1

    suspicious: dict[tuple[str, date], list[str]] = defaultdict(list)
    for (agency, day, rid), (n_inside, at_edge) in sorted(edges.items()):
        rule = pack.rule(rid)
        assert rule.start is not None and rule.end is not None
        window = (rule.end.hour * 60 + rule.end.minute) - (rule.start.hour * 60 + rule.start.minute)
        expected = min(1.0, 2 * settings.bunching_edge_minutes / window)
        share = at_edge / n_inside
        if at_edge >= settings.bunching_min_events and share >= settings.bunching_factor * expected:
            text = (
                f"{at_edge} of {n_inside} contacts within {settings.bunching_edge_minutes} min of the "
                f"{rule.start:%H:%M}/{rule.end:%H:%M} boundary ({share:.0%}, even spread {expected:.1%})"
            )
            suspicious[(agency, day)].append(text)
            findings.append(Finding(kind="suspicious", agency_id=agency, day=day, rule_id=rid, detail=text))

    keys = sorted(set(contacts) | set(blocked_n))
    days = tuple(
        AgencyDay(
            agency_id=a,
            day=d,
            contacts=contacts.get((a, d), 0),
            blocked_by_rule=dict(sorted(blocked_n.get((a, d), Counter()).items())),
            breaches_by_rule=dict(sorted(breach_n.get((a, d), Counter()).items())),
            near_misses_by_rule=dict(sorted(near_n.get((a, d), Counter()).items())),
            suspicious=tuple(suspicious.get((a, d), [])),
        )
        for a, d in keys
    )
    findings.sort(key=lambda f: (f.day, f.agency_id, f.kind, f.at.isoformat() if f.at else "", f.rule_id))
    return AuditReport(pack=f"{pack.code}@{pack.version}", days=days, findings=tuple(findings))


def replay_pack(pack: RulePack) -> RulePack:
    """``pack`` with only the rules a logged contact can be replayed against (the ledger does not carry
    a visit's team, recording or appointment)."""
    return replace(pack, rules=tuple(r for r in pack.rules if r.kind in _REPLAYED_KINDS))


def replay_decision(*, events: Sequence[LedgerEntry], i: int, flags: Sequence[Flag], tz: str,
                    pack: RulePack, known: DebtorHistory | None = None, notices: Notices | None = None,
                    collectors: int | None = None) -> Decision:
    """Did the ``i``-th logged contact of one debtor's ledger ``events`` (sorted by time) break a rule of
    ``pack`` (give :func:`replay_pack`'s) given the ledger before it and the debtor's ``flags``? The
    same engine as the pre-contact check, at the contact's own time: the daily audit's breaches and the
    check of contacts reported after they happened (an agency's imported work results). ``known``, the
    history of all ``events`` built once (:meth:`DebtorHistory.build`, same order), saves rebuilding it
    for each contact of a debtor. ``notices`` (``None``: the notice rule is not replayed) are the notices
    before outsourcing sent: an agency's contact is checked against the one naming it. ``collectors``: the
    certified collectors the contact named (a reported call by a collector,
    :func:`fieldcollect.compliance.services.collectors_qualified`)."""
    e = events[i]
    if known is not None:
        history = known.prefix(i, flags)
    else:
        history = DebtorHistory.build(debtor_id=e.debtor_id, ledger=events[:i], flags=flags)
    agency = e.agency_id if notices is not None else None
    req = ContactRequest(request_id=f"ledger-{e.debtor_id}-{i}", debtor_id=e.debtor_id, tz=tz, channel=e.channel,
                         party=e.party, phone=e.phone, at=e.at, agency_id=agency, collectors=collectors,
                         notice_sent_at=notices.get((e.debtor_id, agency)) if notices is not None and agency else None)
    return check_history(request=req, history=history, pack=pack)


def _minutes(t: datetime) -> float:
    return t.hour * 60 + t.minute + t.second / 60


def _hours_near_miss(rule: Rule, local: datetime, margin: int) -> str | None:
    assert rule.start is not None and rule.end is not None
    m = _minutes(local)
    start = rule.start.hour * 60 + rule.start.minute
    end = rule.end.hour * 60 + rule.end.minute
    if start <= m < start + margin:
        return f"{local:%H:%M:%S}, within {margin} min after the {rule.start:%H:%M} opening"
    if end - margin <= m < end:
        return f"{local:%H:%M:%S}, within {margin} min before the {rule.end:%H:%M} close"
    return None


def _edge(rule: Rule, local: datetime, edge: int) -> tuple[bool, bool]:
    assert rule.start is not None and rule.end is not None
    m = _minutes(local)
    start = rule.start.hour * 60 + rule.start.minute
    end = rule.end.hour * 60 + rule.end.minute
    inside = start <= m < end
    return inside, inside and (m < start + edge or m >= end - edge)


def _cap_usage(rule: Rule, known: DebtorHistory, i: int, tz: str) -> int:
    """How much of ``rule``'s cap is used once the ``i``-th contact of ``known`` (and those before it) is
    counted, by the engine's counting; -1 when that contact is not of the counted kind."""
    e = known.events[i]
    n, _oldest = count_in_window(rule, known, t=e.at, day=e.at.astimezone(zone(tz)).date(), tz=tz,
                                 phone=normalise_phone(e.phone), upto=i + 1)
    # the contact itself only uses the cap if it is of the counted kind
    return n if counted(rule, e) else -1


CSV_COLUMNS = ("day", "agency_id", "section", "rule_id", "count", "detail")


def report_csv(report: AuditReport) -> str:
    """The report as CSV text, one row per agency-day and section (long format, easy to pivot).

    Sections: ``contacts`` (rule_id empty), ``blocked``, ``breach``, ``near_miss`` (counts per rule),
    ``suspicious`` (count 1, the pattern in ``detail``).
    """
    buf = io.StringIO()
    w = safe_csv_writer(buf)  # a suspicious pattern's text cannot run as a formula
    w.writerow(CSV_COLUMNS)
    for d in report.days:
        w.writerow([d.day.isoformat(), d.agency_id, "contacts", "", d.contacts, ""])
        for section, counts in (
            ("blocked", d.blocked_by_rule),
            ("breach", d.breaches_by_rule),
            ("near_miss", d.near_misses_by_rule),
        ):
            for rid, n in counts.items():
                w.writerow([d.day.isoformat(), d.agency_id, section, rid, n, ""])
        for text in d.suspicious:
            rid = next(
                (f.rule_id for f in report.findings if f.kind == "suspicious" and f.detail == text), ""
            )
            w.writerow([d.day.isoformat(), d.agency_id, "suspicious", rid, 1, text])
    return buf.getvalue()
