"""After-the-fact audit: breaches, blocked attempts by rule, near misses and bunched times."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fieldcollect.compliance.audit import BlockedAttempt, audit_ledger, report_csv
from fieldcollect.compliance.engine import Flag, LedgerEntry
from fieldcollect.compliance.packs import load_pack
from fieldcollect.compliance.tests.contacts import ledger_entry

CN = load_pack("CN")
US = load_pack("US")
SH = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 6, 10, tzinfo=SH)


def call(debtor: str, at: datetime, agency: str = "A", **kw: object) -> LedgerEntry:
    return ledger_entry(at, **{"debtor_id": debtor, "phone": f"phone-{debtor}", "agency_id": agency, **kw})


def shanghai(_debtor: str) -> str:
    return "Asia/Shanghai"


def test_fourth_connected_call_across_agencies_is_a_breach_and_the_third_a_near_miss() -> None:
    rows = [
        call("d1", DAY.replace(hour=9), "A", connected=True),
        call("d1", DAY.replace(hour=10), "B", connected=True),
        call("d1", DAY.replace(hour=11), "B", connected=True),
        call("d1", DAY.replace(hour=15), "C", connected=True),
    ]
    report = audit_ledger(ledger=rows, flags=[], blocked=[], pack=CN, tz_of=shanghai)
    by = {d.agency_id: d for d in report.days}
    assert by["C"].breaches_by_rule == {"CN-CONNECTED-CAP": 1}
    assert by["B"].near_misses_by_rule == {"CN-CONNECTED-CAP": 1}  # the 11:00 call used the last of 3
    assert by["A"].breaches_by_rule == {} and by["A"].near_misses_by_rule == {}
    breach = next(f for f in report.findings if f.kind == "breach")
    assert breach.agency_id == "C" and breach.at == DAY.replace(hour=15)


def test_hours_breach_near_miss_and_consent() -> None:
    rows = [
        call("d1", DAY.replace(hour=22, minute=5)),  # breach
        call("d2", DAY.replace(hour=21, minute=55)),  # near miss (10 min margin)
        call("d3", DAY.replace(hour=8, minute=3)),  # near miss after the opening
        call("d4", DAY.replace(hour=12)),  # fine
        call("d5", DAY.replace(hour=23)),  # consent on file: neither breach nor near miss
    ]
    consent = Flag(debtor_id="d5", flag="consent_hours", start=DAY - timedelta(days=3))
    report = audit_ledger(ledger=rows, flags=[consent], blocked=[], pack=CN, tz_of=shanghai)
    (day,) = report.days
    assert day.contacts == 5
    assert day.breaches_by_rule == {"CN-HOURS": 1}
    assert day.near_misses_by_rule == {"CN-HOURS": 2}
    details = [f.detail for f in report.findings if f.kind == "near_miss"]
    assert any("before the 22:00 close" in d for d in details)
    assert any("after the 08:00 opening" in d for d in details)


def test_pause_breach_and_blocked_attempts_counted_by_rule_and_agency() -> None:
    complaint = Flag(debtor_id="d1", flag="complaint", start=DAY, end=DAY + timedelta(days=5))
    rows = [call("d1", DAY.replace(hour=10), "A")]
    blocked = [
        BlockedAttempt(agency_id="A", debtor_id="d1", at=DAY.replace(hour=11), rule_ids=("CN-PAUSE-COMPLAINT",)),
        BlockedAttempt(
            agency_id="A", debtor_id="d1", at=DAY.replace(hour=23), rule_ids=("CN-HOURS", "CN-PAUSE-COMPLAINT")
        ),
        BlockedAttempt(agency_id=None, debtor_id="d2", at=DAY.replace(hour=23), rule_ids=("CN-HOURS",)),
    ]
    report = audit_ledger(ledger=rows, flags=[complaint], blocked=blocked, pack=CN, tz_of=shanghai)
    by = {d.agency_id: d for d in report.days}
    assert by["A"].breaches_by_rule == {"CN-PAUSE-COMPLAINT": 1}
    assert by["A"].blocked_by_rule == {"CN-HOURS": 1, "CN-PAUSE-COMPLAINT": 2}
    assert by["A"].blocked == 3
    assert by["-"].contacts == 0 and by["-"].blocked_by_rule == {"CN-HOURS": 1}


def test_bunching_at_the_close_is_flagged_but_an_even_spread_is_not() -> None:
    bunched = [call(f"b{i}", DAY.replace(hour=21, minute=55, second=i * 5), "A") for i in range(6)]
    bunched += [call(f"c{i}", DAY.replace(hour=10 + i), "A") for i in range(4)]
    even = [call(f"e{i}", DAY.replace(hour=8) + timedelta(minutes=i * 55), "B") for i in range(15)]
    report = audit_ledger(ledger=bunched + even, flags=[], blocked=[], pack=CN, tz_of=shanghai)
    by = {d.agency_id: d for d in report.days}
    assert len(by["A"].suspicious) == 1 and "6 of 10 contacts" in by["A"].suspicious[0]
    assert by["B"].suspicious == ()
    # the threshold is the pack's: raise the minimum and the pattern is no longer reported
    from dataclasses import replace

    strict = replace(CN, audit=replace(CN.audit, bunching_min_events=7))
    report = audit_ledger(ledger=bunched, flags=[], blocked=[], pack=strict, tz_of=shanghai)
    assert report.days[0].suspicious == ()


def test_days_are_the_debtors_local_days() -> None:
    ny = ZoneInfo("America/New_York")
    at = datetime(2026, 3, 8, 20, 30, tzinfo=ny)  # 2026-03-09 09:30 in Shanghai
    report = audit_ledger(
        ledger=[call("d1", at)], flags=[], blocked=[], pack=US, tz_of=lambda _d: "America/New_York"
    )
    assert report.days[0].day.isoformat() == "2026-03-08"
    assert report.days[0].near_misses_by_rule == {}
    late = datetime(2026, 3, 8, 20, 55, tzinfo=ny)
    report = audit_ledger(ledger=[call("d1", late)], flags=[], blocked=[], pack=US, tz_of=lambda _d: "America/New_York")
    assert report.days[0].near_misses_by_rule == {"US-HOURS": 1}


def test_us_conversation_then_call_is_a_breach() -> None:
    ny = ZoneInfo("America/New_York")
    rows = [
        call("d1", datetime(2026, 6, 1, 10, tzinfo=ny), connected=True, conversation=True),
        call("d1", datetime(2026, 6, 3, 10, tzinfo=ny), "B"),
    ]
    report = audit_ledger(ledger=rows, flags=[], blocked=[], pack=US, tz_of=lambda _d: "America/New_York")
    by = {(d.agency_id, d.day.isoformat()): d for d in report.days}
    assert by[("B", "2026-06-03")].breaches_by_rule == {"US-7AFTER-CONVERSATION": 1}


def test_csv_long_format() -> None:
    rows = [call("d1", DAY.replace(hour=22, minute=5), "A")]
    blocked = [BlockedAttempt(agency_id="A", debtor_id="d1", at=DAY.replace(hour=23), rule_ids=("CN-HOURS",))]
    text = report_csv(audit_ledger(ledger=rows, flags=[], blocked=blocked, pack=CN, tz_of=shanghai))
    assert text.splitlines() == [
        "day,agency_id,section,rule_id,count,detail",
        "2026-06-10,A,contacts,,1,",
        "2026-06-10,A,blocked,CN-HOURS,1,",
        "2026-06-10,A,breach,CN-HOURS,1,",
    ]


def test_a_ledger_that_always_followed_the_engine_has_no_breaches() -> None:
    import random

    from fieldcollect.compliance.engine import ContactRequest, check

    rng = random.Random(7)
    for pack, tzname in ((CN, "Asia/Shanghai"), (US, "America/New_York")):
        tz = ZoneInfo(tzname)
        rows: list[LedgerEntry] = []
        t = datetime(2026, 3, 5, 6, 0, tzinfo=tz)  # spans the US spring-forward weekend
        for i in range(60):
            debtor = f"d{i % 3}"
            party = "third_party" if rng.random() < 0.2 else "debtor"
            req = ContactRequest(
                request_id=str(i), debtor_id=debtor, tz=tzname, channel="call", party=party,
                phone=f"{debtor}-{party}", at=t,
            )  # fmt: skip
            d = check(request=req, ledger=rows, flags=[], pack=pack)
            if d.next_allowed_at is not None:
                connected = rng.random() < 0.4
                rows.append(
                    call(debtor, d.next_allowed_at, rng.choice("ABC"), party=party, phone=f"{debtor}-{party}",
                         connected=connected, conversation=connected and rng.random() < 0.5)
                )  # fmt: skip
            t += timedelta(minutes=rng.randint(5, 300))
        assert len(rows) > 20

        def zone_of(_debtor: str, z: str = tzname) -> str:
            return z

        report = audit_ledger(ledger=rows, flags=[], blocked=[], pack=pack, tz_of=zone_of)
        assert [f for f in report.findings if f.kind == "breach"] == []
        assert sum(d.contacts for d in report.days) == len(rows)


def test_cap_near_misses_are_counted_by_the_engines_counting(monkeypatch) -> None:
    """One counting rule: the audit asks the engine (``count_in_window``), it keeps no copy of its own."""
    from fieldcollect.compliance import audit, engine

    calls: list[str] = []

    def spy(rule, history, **kw):  # type: ignore[no-untyped-def]
        calls.append(rule.id)
        return engine.count_in_window(rule, history, **kw)

    monkeypatch.setattr(audit, "count_in_window", spy)
    rows = [call("d1", DAY.replace(hour=h), connected=True) for h in (9, 10, 11)]
    report = audit_ledger(ledger=rows, flags=[], blocked=[], pack=CN, tz_of=shanghai)
    assert report.days[0].near_misses_by_rule == {"CN-CONNECTED-CAP": 1}
    assert "CN-CONNECTED-CAP" in calls


def test_a_cap_near_miss_is_a_contact_after_which_the_engine_refuses_the_same_contact() -> None:
    from fieldcollect.compliance.engine import ContactRequest, check

    ny = ZoneInfo("America/New_York")
    rows = [call("d1", datetime(2026, 3, d, 10 + d % 3, tzinfo=ny), phone="p1", connected=d % 2 == 0,
                  conversation=d % 4 == 0) for d in range(2, 12)]  # across the spring-forward weekend
    report = audit_ledger(ledger=rows, flags=[], blocked=[], pack=US, tz_of=lambda _d: "America/New_York")
    near = [f for f in report.findings if f.kind == "near_miss" and f.rule_id.startswith("US-") and "last of" in f.detail]
    assert near
    for f in near:
        assert f.at is not None
        req = ContactRequest(request_id="next", debtor_id="d1", tz="America/New_York", channel="call",
                             party="debtor", phone="p1", at=f.at + timedelta(seconds=1))
        before = [r for r in rows if r.at <= f.at]
        assert f.rule_id in check(request=req, ledger=before, flags=[], pack=US).rule_ids
