"""One table of cases per rule of every shipped pack, built from the numbers in the pack files.

Each rule is tested alone (a pack holding just that rule), so that a case shows exactly what the rule
does; full-pack scenarios are in test_engine_scenarios.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fieldcollect.compliance.engine import ContactRequest, Decision, Flag, LedgerEntry, check
from fieldcollect.compliance.packs import Rule, RulePack, available_packs, load_pack
from fieldcollect.compliance.tests.contacts import contact_request, ledger_entry

DAY = date(2026, 6, 10)  # a Wednesday, far from any daylight-saving change
PACKS = {code: load_pack(code) for code in available_packs()}
CASES = [(code, rule.id) for code, pack in PACKS.items() for rule in pack.rules]


def solo(code: str, rule_id: str) -> tuple[RulePack, Rule]:
    pack = PACKS[code]
    rule = pack.rule(rule_id)
    return replace(pack, rules=(rule,)), rule


def local(pack: RulePack, d: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(d, time(hh, mm), tzinfo=ZoneInfo(pack.default_tz))


def request(pack: RulePack, rule: Rule, at: datetime, **kw: object) -> ContactRequest:
    channel = "call" if "call" in rule.channels else sorted(rule.channels)[0]
    party = "debtor" if "debtor" in rule.parties else "third_party"
    fields: dict[str, object] = {"request_id": "q", "tz": pack.default_tz, "channel": channel, "party": party,
                                 "phone": "+86 138-0000-0001", "collectors": 2, "recording": True,
                                 "appointment_confirmed": True}
    fields.update(kw)
    return contact_request(at, **fields)


def entry(at: datetime, **kw: object) -> LedgerEntry:
    return ledger_entry(at, **{"phone": "+8613800000001", **kw})


def run(pack: RulePack, req: ContactRequest, ledger=(), flags=()) -> Decision:
    return check(request=req, ledger=list(ledger), flags=list(flags), pack=pack)


def assert_blocked(d: Decision, rule: Rule, nxt: datetime | None) -> None:
    assert not d.allowed
    assert d.rule_ids == (rule.id,)
    assert d.explanations[0].zh_hans == rule.explanation["zh-Hans"]
    assert d.explanations[0].en == rule.explanation["en"]
    if nxt is None:
        assert d.next_allowed_at is None
    else:
        assert d.next_allowed_at == nxt


def test_every_shipped_pack_has_rules_with_sources_and_both_languages() -> None:
    assert set(PACKS) == {"CN", "US", "IN"}
    for pack in PACKS.values():
        assert pack.version and pack.effective_from
        for rule in pack.rules:
            assert rule.source.strip()
            assert rule.explanation["zh-Hans"].strip() and rule.explanation["en"].strip()
            assert "{" not in rule.explanation["en"], "placeholders must be filled"


@pytest.mark.parametrize(("code", "rule_id"), CASES)
def test_rule_table(code: str, rule_id: str) -> None:
    pack, rule = solo(code, rule_id)
    if not rule.enabled:  # shipped disabled: its table is that of the rule once enabled
        rule = replace(rule, enabled=True)
        pack = replace(pack, rules=(rule,))
    {
        "contact_hours": _hours,
        "count_cap": _count_cap,
        "pause": _pause,
        "third_party_cease": _tp_cease,
        "third_party_lost_contact": _lost_contact,
        "visit_team": _visit_team,
        "visit_recording": _visit_flag,
        "visit_appointment": _visit_flag,
        "outsourcing_notice": _outsourcing_notice,
        "collector_certified": _collector_certified,
    }[rule.kind](pack, rule)


def _hours(pack: RulePack, rule: Rule) -> None:
    assert rule.start is not None and rule.end is not None
    start = local(pack, DAY, rule.start.hour, rule.start.minute)
    end = local(pack, DAY, rule.end.hour, rule.end.minute)
    minute = timedelta(minutes=1)
    next_start = local(pack, DAY + timedelta(days=1), rule.start.hour, rule.start.minute)
    for channel in sorted(rule.channels):
        table = [
            (start - minute, False, start),
            (start, True, start),
            (end - minute, True, end - minute),
            (end, False, next_start),
            (local(pack, DAY, 23, 59), False, next_start),
        ]
        for at, allowed, nxt in table:
            d = run(pack, request(pack, rule, at, channel=channel))
            assert d.allowed is allowed, (channel, at)
            if not allowed:
                assert_blocked(d, rule, nxt)
            else:
                assert d.next_allowed_at == nxt
    # channels outside the rule are not limited
    for channel in sorted({"call", "sms", "visit", "letter", "email"} - rule.channels):
        assert run(pack, request(pack, rule, end, channel=channel)).allowed
    # consent on file lifts the rule only where the pack allows it
    consent = Flag(debtor_id="d1", flag="consent_hours", start=start - timedelta(days=30), end=None)
    d = run(pack, request(pack, rule, end + timedelta(minutes=30)), flags=[consent])
    assert d.allowed is rule.consent_override
    if "third_party" in rule.parties:  # the debtor's consent does not cover calls to third parties
        assert not run(pack, request(pack, rule, end + timedelta(minutes=30), party="third_party"), flags=[consent]).allowed
    # a consent that ends at 23:00 opens the evening until then, then the rule applies again
    if rule.consent_override:
        until = local(pack, DAY, 23)
        short = Flag(debtor_id="d1", flag="consent_hours", start=start, end=until)
        assert run(pack, request(pack, rule, until - minute), flags=[short]).allowed
        assert_blocked(run(pack, request(pack, rule, until), flags=[short]), rule, next_start)


def _matching(rule: Rule, at: datetime, i: int, *, match: bool = True) -> LedgerEntry:
    connected = {
        "connected": match,
        "unanswered": not match,
        "conversations": match,
        "attempts": i % 2 == 0,
    }[rule.count or ""]
    conversation = rule.count == "conversations" and match
    return entry(at, connected=connected or conversation, conversation=conversation)


def _count_cap(pack: RulePack, rule: Rule) -> None:
    at = local(pack, DAY, 12)
    first = DAY - timedelta(days=rule.window_days - 1)
    # cap rows on the first day of the window (or this morning for one-day windows)
    rows = [_matching(rule, local(pack, first, 8, i) if rule.window_days > 1 else local(pack, DAY, 8, i), i) for i in range(rule.cap)]
    req = request(pack, rule, at)
    assert run(pack, req, rows[:-1]).allowed, "one below the cap is allowed"
    unblock = local(pack, first + timedelta(days=rule.window_days), 0)
    assert_blocked(run(pack, req, rows), rule, unblock)
    # rows from before the window do not count
    old = [replace(r, at=r.at - timedelta(days=rule.window_days)) for r in rows]
    assert run(pack, req, old).allowed
    # rows logged after the request time are not history yet
    later = [replace(r, at=at + timedelta(minutes=5 + i)) for i, r in enumerate(rows)]
    assert run(pack, req, later).allowed
    # rows of another debtor do not count
    assert run(pack, req, [replace(r, debtor_id="d2") for r in rows]).allowed
    if rule.count != "attempts":
        other = [_matching(rule, r.at, i, match=False) for i, r in enumerate(rows)]
        assert run(pack, req, other).allowed, "rows of another outcome do not count"
    if rule.scope == "phone":
        assert run(pack, req, [replace(r, phone="+8613900000009") for r in rows]).allowed
        assert run(pack, replace(req, phone="13900000009"), rows).allowed
    else:  # per debtor: any number of the debtor counts
        assert not run(pack, req, [replace(r, phone=f"1390000000{i}") for i, r in enumerate(rows)]).allowed
    # the cap reached this morning: blocked for the rest of the local day, then free at midnight
    if rule.window_days == 1:
        late = local(pack, DAY, 23, 59)
        assert_blocked(run(pack, replace(req, at=late), rows), rule, unblock)


def _pause(pack: RulePack, rule: Rule) -> None:
    at = local(pack, DAY, 12)
    until = local(pack, DAY + timedelta(days=3), 9, 30)
    flag = Flag(debtor_id="d1", flag=rule.flag or "", start=at - timedelta(days=1), end=until)
    for channel in sorted(rule.channels):
        req = request(pack, rule, at, channel=channel)
        assert_blocked(run(pack, req, flags=[flag]), rule, until)
        assert_blocked(run(pack, req, flags=[replace(flag, end=None)]), rule, None)
        assert run(pack, req, flags=[replace(flag, end=at)]).allowed, "ended at the request instant"
        assert run(pack, req, flags=[replace(flag, start=at + timedelta(seconds=1))]).allowed
        assert run(pack, req, flags=[replace(flag, debtor_id="d2")]).allowed
    for party in sorted({"debtor", "third_party"} - rule.parties):
        assert run(pack, request(pack, rule, at, party=party), flags=[flag]).allowed
    # two overlapping pauses: allowed only when both are over
    second = Flag(debtor_id="d1", flag=rule.flag or "", start=until - timedelta(hours=1), end=until + timedelta(days=2))
    assert_blocked(run(pack, request(pack, rule, at), flags=[flag, second]), rule, until + timedelta(days=2))


def _tp_cease(pack: RulePack, rule: Rule) -> None:
    at = local(pack, DAY, 12)
    flag = Flag(debtor_id="d1", flag="third_party_cease", phone="+86 139 0000 0002", start=at - timedelta(days=10))
    req = request(pack, rule, at, party="third_party", phone="+8613900000002")
    assert_blocked(run(pack, req, flags=[flag]), rule, None)
    assert run(pack, replace(req, phone="+8613900000003"), flags=[flag]).allowed
    assert run(pack, replace(req, party="debtor"), flags=[flag]).allowed
    end = at + timedelta(days=1)
    assert_blocked(run(pack, req, flags=[replace(flag, end=end)]), rule, end)


def _lost_contact(pack: RulePack, rule: Rule) -> None:
    at = local(pack, DAY, 12)
    n = rule.consecutive_failed
    req = request(pack, rule, at, party="third_party", phone="+8613900000002")
    fails = [entry(local(pack, DAY - timedelta(days=1), 9, i)) for i in range(n)]
    assert_blocked(run(pack, req), rule, None)
    assert run(pack, req, fails).allowed
    assert_blocked(run(pack, req, fails[1:]), rule, None)
    answered = entry(local(pack, DAY, 10), connected=True)
    assert_blocked(run(pack, req, [*fails, answered]), rule, None)
    # calls to third parties do not count as attempts to reach the debtor
    tp_calls = [replace(f, party="third_party") for f in fails]
    assert_blocked(run(pack, req, tp_calls), rule, None)
    # a later logged failed attempt completes the series: allowed from that instant
    later = entry(at + timedelta(hours=2))
    assert_blocked(run(pack, req, [*fails[1:], later]), rule, later.at)
    # no valid number on file
    novalid = Flag(debtor_id="d1", flag="no_valid_number", start=at - timedelta(days=1))
    assert run(pack, req, flags=[novalid]).allowed
    soon = replace(novalid, start=at + timedelta(hours=1))
    assert_blocked(run(pack, req, flags=[soon]), rule, soon.start)
    # the debtor's own contacts are not limited by this rule
    assert run(pack, replace(req, party="debtor")).allowed


def _visit_team(pack: RulePack, rule: Rule) -> None:
    at = local(pack, DAY, 12)
    req = request(pack, rule, at, channel="visit")
    assert run(pack, replace(req, collectors=rule.min_collectors)).allowed
    assert_blocked(run(pack, replace(req, collectors=rule.min_collectors - 1)), rule, None)
    assert_blocked(run(pack, replace(req, collectors=None)), rule, None)
    assert run(pack, replace(req, channel="call", collectors=0)).allowed


def _collector_certified(pack: RulePack, rule: Rule) -> None:
    at = local(pack, DAY, 12)
    for channel in sorted(rule.channels):
        req = request(pack, rule, at, channel=channel)
        assert run(pack, replace(req, collectors=1)).allowed  # certified on the day
        assert run(pack, replace(req, collectors=None)).allowed  # no collector named: the bank's own
        assert_blocked(run(pack, replace(req, collectors=0)), rule, None)  # lapsed: not again on this record
    # visits are the visit team's rule, not this one
    assert "visit" not in rule.channels


def _visit_flag(pack: RulePack, rule: Rule) -> None:
    at = local(pack, DAY, 12)
    key = "recording" if rule.kind == "visit_recording" else "appointment_confirmed"
    req = request(pack, rule, at, channel="visit")
    off: dict[str, Any] = {key: False}
    missing: dict[str, Any] = {key: None}
    assert run(pack, req).allowed
    assert_blocked(run(pack, replace(req, **off)), rule, None)
    assert_blocked(run(pack, replace(req, **missing)), rule, None)
    assert run(pack, replace(req, channel="call", **off)).allowed


def _outsourcing_notice(pack: RulePack, rule: Rule) -> None:
    at = local(pack, DAY, 12)
    req = request(pack, rule, at, agency_id="7")
    # no notice sent: refused, and nothing but sending one changes it
    assert_blocked(run(pack, req), rule, None)
    # sent an hour ago: the day of sending does not count; allowed from the local midnight after
    # waiting_days whole local days
    sent = at - timedelta(hours=1)
    ready = local(pack, DAY + timedelta(days=rule.waiting_days + 1), 0)
    if rule.waiting_days:
        assert_blocked(run(pack, replace(req, notice_sent_at=sent)), rule, ready)
        # the last instant of the last waiting day: still refused by this rule
        last = run(pack, replace(req, at=ready - timedelta(seconds=1), notice_sent_at=sent))
        assert rule.id in last.rule_ids
        # sent at the first minute of the day or at its last: the same day, the same waiting
        early = local(pack, DAY, 0, 1)
        assert rule.id in run(pack, replace(req, at=ready - timedelta(seconds=1), notice_sent_at=early)).rule_ids
    noon = replace(req, at=local(pack, DAY + timedelta(days=rule.waiting_days + 1), 12), notice_sent_at=sent)
    assert run(pack, noon).allowed
    assert run(pack, replace(req, notice_sent_at=local(pack, DAY - timedelta(days=rule.waiting_days + 1), 23, 59))).allowed
    # the bank's own contacts are not limited
    assert run(pack, replace(req, agency_id=None)).allowed


def test_disabled_rule_never_blocks() -> None:
    pack, rule = solo("CN", "CN-HOURS")
    off = replace(pack, rules=(replace(rule, enabled=False),))
    assert run(off, request(off, rule, local(off, DAY, 23))).allowed


def test_notice_waiting_days_are_the_debtors_local_days() -> None:
    """The same instants, two debtors: the day the notice was sent, and the days after it, are each
    debtor's own local days (Urumqi is two hours behind Shanghai)."""
    pack, rule = solo("CN", "CN-OUTSOURCING-NOTICE")
    assert rule.waiting_days == 3
    sent = datetime(2026, 6, 10, 17, 30, tzinfo=ZoneInfo("UTC"))  # 23:30 on the 10th in Urumqi, 01:30 on the 11th in Shanghai
    at = datetime(2026, 6, 14, 3, 0, tzinfo=ZoneInfo("UTC"))  # 09:00 on the 14th in Urumqi, 11:00 in Shanghai
    base = request(pack, rule, at, agency_id="7", notice_sent_at=sent)
    assert run(pack, replace(base, tz="Asia/Urumqi")).allowed  # 11, 12, 13 have passed
    shanghai = run(pack, replace(base, tz="Asia/Shanghai"))  # 12, 13, 14: from the 15th
    assert_blocked(shanghai, rule, datetime(2026, 6, 15, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
