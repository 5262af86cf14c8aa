"""Full-pack scenarios a compliance officer would recognise, including daylight-saving edge cases."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fieldcollect.compliance.engine import (
    DebtorHistory,
    Flag,
    check,
    check_history,
)
from fieldcollect.compliance.packs import PACKS_DIR, load_pack, parse_pack
from fieldcollect.compliance.tests.contacts import contact_request as req
from fieldcollect.compliance.tests.contacts import ledger_entry as call

CN = load_pack("CN")
US = load_pack("US")
IN = load_pack("IN")
NY = ZoneInfo("America/New_York")
SH = ZoneInfo("Asia/Shanghai")


def test_cn_cap_across_agencies_then_hours_give_next_morning() -> None:
    day = datetime(2026, 6, 10, tzinfo=SH)
    rows = [
        call(day.replace(hour=9), connected=True, agency_id="bank"),
        call(day.replace(hour=13), connected=True, agency_id="agency-a"),
        call(day.replace(hour=19), connected=True, agency_id="agency-b"),
    ]
    d = check(request=req(day.replace(hour=21, minute=50)), ledger=rows, flags=[], pack=CN)
    assert d.rule_ids == ("CN-CONNECTED-CAP",)
    assert d.next_allowed_at == day.replace(day=11, hour=8)  # midnight frees the cap, the hours rule says 08:00
    assert "3" in d.explanations[0].zh_hans and d.explanations[0].text("zh-Hans").startswith("同一债务人")
    assert d.pack == "CN@2026.2"


def test_cn_several_rules_block_together_in_pack_order() -> None:
    at = datetime(2026, 6, 10, 23, 0, tzinfo=SH)
    complaint = Flag(debtor_id="d1", flag="complaint", start=at - timedelta(days=1), end=at + timedelta(days=2))
    d = check(request=req(at, party="third_party"), ledger=[], flags=[complaint], pack=CN)
    assert d.rule_ids == ("CN-HOURS", "CN-THIRD-PARTY-LOST-CONTACT", "CN-PAUSE-COMPLAINT")
    assert d.next_allowed_at is None  # contact with the debtor was never lost


def test_cn_third_party_after_lost_contact_and_cease() -> None:
    day = datetime(2026, 6, 10, tzinfo=SH)
    fails = [call(day.replace(hour=9 + i)) for i in range(3)]
    tp = req(day.replace(hour=15), party="third_party", phone="139 0000 0002")
    assert check(request=tp, ledger=fails, flags=[], pack=CN).allowed
    cease = Flag(debtor_id="d1", flag="third_party_cease", phone="13900000002", start=day.replace(hour=14))
    d = check(request=tp, ledger=fails, flags=[cease], pack=CN)
    assert d.rule_ids == ("CN-THIRD-PARTY-CEASE",) and d.next_allowed_at is None
    other = replace(tp, phone="13900000003")
    assert check(request=other, ledger=fails, flags=[cease], pack=CN).allowed


def test_consent_on_file_allows_cn_evening_but_not_in() -> None:
    at = datetime(2026, 6, 10, 22, 30, tzinfo=SH)
    consent = Flag(debtor_id="d1", flag="consent_hours", start=at - timedelta(days=5))
    assert check(request=req(at), ledger=[], flags=[consent], pack=CN).allowed
    kolkata = at.astimezone(ZoneInfo("Asia/Kolkata"))  # 20:00 in Kolkata
    d = check(request=req(kolkata, tz="Asia/Kolkata"), ledger=[], flags=[consent], pack=IN)
    assert d.rule_ids == ("IN-HOURS",)
    assert d.next_allowed_at == datetime(2026, 6, 11, 8, 0, tzinfo=ZoneInfo("Asia/Kolkata"))


def test_in_hours_limit_calls_only() -> None:
    at = datetime(2026, 6, 10, 20, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert check(request=req(at, tz="Asia/Kolkata", channel="sms"), ledger=[], flags=[], pack=IN).allowed


@pytest.mark.parametrize(
    ("utc", "expected_local"),
    [
        # 2026-03-08 02:00 EST -> 03:00 EDT: 07:30 local after the change is still too early
        (datetime(2026, 3, 8, 11, 30, tzinfo=UTC), datetime(2026, 3, 8, 8, 0, tzinfo=NY)),
        # 2026-11-01 02:00 EDT -> 01:00 EST: 07:30 EST is too early; 08:00 EST = 13:00 UTC
        (datetime(2026, 11, 1, 12, 30, tzinfo=UTC), datetime(2026, 11, 1, 8, 0, tzinfo=NY)),
        # 21:30 EDT on the eve of fall back: next morning 08:00 EST
        (datetime(2026, 11, 1, 1, 30, tzinfo=UTC), datetime(2026, 11, 1, 8, 0, tzinfo=NY)),
    ],
)
def test_us_hours_across_daylight_saving(utc: datetime, expected_local: datetime) -> None:
    d = check(request=req(utc, tz="America/New_York"), ledger=[], flags=[], pack=US)
    assert d.rule_ids == ("US-HOURS",)
    assert d.next_allowed_at == expected_local
    assert d.next_allowed_at is not None and d.next_allowed_at.utcoffset() == expected_local.utcoffset()


def test_us_seven_in_seven_counts_local_days_across_spring_forward() -> None:
    # seven calls 2026-03-05 .. 2026-03-11 local, one a day at 09:00 (DST starts on the 8th)
    rows = [call(datetime(2026, 3, 5 + i, 9, 0, tzinfo=NY)) for i in range(7)]
    at = datetime(2026, 3, 11, 12, 0, tzinfo=NY)
    d = check(request=req(at, tz="America/New_York"), ledger=rows, flags=[], pack=US)
    assert d.rule_ids == ("US-7IN7",)
    assert d.next_allowed_at == datetime(2026, 3, 12, 8, 0, tzinfo=NY)  # the 5th leaves the window
    assert check(request=req(at, tz="America/New_York"), ledger=rows[1:], flags=[], pack=US).allowed


def test_us_no_call_for_seven_days_after_conversation() -> None:
    conv = call(datetime(2026, 10, 28, 10, 0, tzinfo=NY), connected=True, conversation=True)
    at = datetime(2026, 10, 28, 10, 30, tzinfo=NY)
    d = check(request=req(at, tz="America/New_York"), ledger=[conv], flags=[], pack=US)
    assert d.rule_ids == ("US-7AFTER-CONVERSATION",)
    # conversation day is day one: days 28..3 Nov blocked; free on 4 Nov, after the fall-back
    assert d.next_allowed_at == datetime(2026, 11, 4, 8, 0, tzinfo=NY)
    # a connected call without a conversation (e.g. voicemail) does not start the period
    vm = replace(conv, conversation=False)
    assert check(request=req(at, tz="America/New_York"), ledger=[vm], flags=[], pack=US).allowed
    # SMS is not a call
    assert check(request=req(at, tz="America/New_York", channel="sms"), ledger=[conv], flags=[], pack=US).allowed


def test_us_dispute_until_verification() -> None:
    at = datetime(2026, 6, 10, 12, 0, tzinfo=NY)
    verified = datetime(2026, 6, 20, 22, 0, tzinfo=NY)  # verification mailed in the evening
    dispute = Flag(debtor_id="d1", flag="dispute", start=at - timedelta(days=1), end=verified)
    d = check(request=req(at, tz="America/New_York"), ledger=[], flags=[dispute], pack=US)
    assert d.rule_ids == ("US-PAUSE-DISPUTE",)
    assert d.next_allowed_at == datetime(2026, 6, 21, 8, 0, tzinfo=NY)


@pytest.mark.parametrize(("pack", "tz", "rule"), [(US, "America/New_York", "US-PAUSE-BANKRUPT"),
                                                  (CN, "Asia/Shanghai", "CN-PAUSE-BANKRUPT")])
def test_bankruptcy_pauses_every_channel_until_lifted(pack, tz, rule) -> None:
    at = datetime(2026, 6, 10, 12, 0, tzinfo=ZoneInfo(tz))
    filed = Flag(debtor_id="d1", flag="bankrupt", start=at - timedelta(days=3), end=None)
    for channel in ("call", "sms", "visit", "letter"):
        d = check(request=req(at, tz=tz, channel=channel), ledger=[], flags=[filed], pack=pack)
        assert rule in d.rule_ids, channel
        assert d.next_allowed_at is None  # until the flag is lifted
    # hard negatives: lifted before the contact, starting after it, or another debtor's
    lifted = replace(filed, end=at - timedelta(hours=1))
    later = replace(filed, start=at + timedelta(hours=1))
    other = replace(filed, debtor_id="d2")
    for flag in (lifted, later, other):
        assert rule not in check(request=req(at, tz=tz), ledger=[], flags=[flag], pack=pack).rule_ids


def test_midnight_fall_back_repeats_the_local_day() -> None:
    """America/Santiago 2026-04-05 00:00 -03 becomes 2026-04-04 23:00 -04: the 4th lasts an hour longer."""
    cap_only = replace(CN, rules=(CN.rule("CN-CONNECTED-CAP"),))
    scl = ZoneInfo("America/Santiago")
    rows = [call(datetime(2026, 4, 4, h, 0, tzinfo=scl), connected=True) for h in (10, 11, 12)]
    at = datetime(2026, 4, 4, 23, 30, tzinfo=scl)  # first pass through 23:30 (-03)
    d = check(request=req(at, tz="America/Santiago"), ledger=rows, flags=[], pack=cap_only)
    assert d.rule_ids == ("CN-CONNECTED-CAP",)
    assert d.next_allowed_at == datetime(2026, 4, 5, 4, 0, tzinfo=UTC)  # midnight of the 5th, second time
    assert d.next_allowed_at.astimezone(scl).date().isoformat() == "2026-04-05"


def test_boundary_inside_a_daylight_saving_gap_opens_at_the_change() -> None:
    """Lord Howe jumps 02:00 -> 02:30; with hours starting 02:15 the window opens at the jump itself."""
    data = tomllib.loads((PACKS_DIR / "cn.toml").read_text(encoding="utf-8"))
    hours = next(r for r in data["rules"] if r["id"] == "CN-HOURS")
    hours["start"] = "02:15"
    data["rules"] = [hours]
    pack = parse_pack(data=data, origin="modified")
    lhi = ZoneInfo("Australia/Lord_Howe")
    at = datetime(2026, 10, 4, 1, 50, tzinfo=lhi)
    d = check(request=req(at, tz="Australia/Lord_Howe"), ledger=[], flags=[], pack=pack)
    assert d.next_allowed_at == datetime(2026, 10, 3, 15, 30, tzinfo=UTC)
    assert d.next_allowed_at.astimezone(lhi).strftime("%H:%M") == "02:30"


def test_history_reuse_and_other_debtors_are_ignored() -> None:
    day = datetime(2026, 6, 10, tzinfo=SH)
    rows = [call(day.replace(hour=9 + i), connected=True) for i in range(3)]
    rows += [replace(r, debtor_id="d2") for r in rows]
    h = DebtorHistory.build(debtor_id="d2", ledger=rows, flags=[])
    assert len(h.events) == 3
    assert not check_history(request=req(day.replace(hour=15), debtor_id="d2"), history=h, pack=CN).allowed
    with pytest.raises(ValueError, match="different debtors"):
        check_history(request=req(day.replace(hour=15)), history=h, pack=CN)


def test_inputs_are_validated() -> None:
    naive = datetime(2026, 6, 10, 12, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        req(naive)
    with pytest.raises(ValueError, match="IANA"):
        req(datetime(2026, 6, 10, 12, tzinfo=UTC), tz="Mars/Olympus")
    with pytest.raises(ValueError, match="channel"):
        req(datetime(2026, 6, 10, 12, tzinfo=UTC), channel="fax")
    with pytest.raises(ValueError, match="conversation"):
        call(datetime(2026, 6, 10, 12, tzinfo=UTC), conversation=True, connected=False)
    with pytest.raises(ValueError, match="phone"):
        Flag(debtor_id="d1", flag="third_party_cease", start=datetime(2026, 6, 10, tzinfo=UTC))
    with pytest.raises(ValueError, match="after"):
        Flag(debtor_id="d1", flag="cease", start=datetime(2026, 6, 10, tzinfo=UTC), end=datetime(2026, 6, 9, tzinfo=UTC))


def test_boundary_in_the_repeated_hour_of_fall_back() -> None:
    """New York repeats 01:00-02:00 on 2026-11-01; hours from 01:30: at 01:10 EST (second pass) the
    window opens at 01:30 EST, not the next day."""
    data = tomllib.loads((PACKS_DIR / "us.toml").read_text(encoding="utf-8"))
    hours = next(r for r in data["rules"] if r["id"] == "US-HOURS")
    hours["start"] = "01:30"
    data["rules"] = [hours]
    pack = parse_pack(data=data, origin="modified")
    at = datetime(2026, 11, 1, 6, 10, tzinfo=UTC)  # 01:10 EST
    d = check(request=req(at, tz="America/New_York"), ledger=[], flags=[], pack=pack)
    # (compare in UTC: Python never finds a time in the repeated hour equal to one in another zone)
    assert d.next_allowed_at is not None and d.next_allowed_at.astimezone(UTC) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    first_pass = datetime(2026, 11, 1, 5, 10, tzinfo=UTC)  # 01:10 EDT
    d = check(request=req(first_pass, tz="America/New_York"), ledger=[], flags=[], pack=pack)
    assert d.next_allowed_at is not None and d.next_allowed_at.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_offset_change_exactly_at_midnight_utc_is_found() -> None:
    from datetime import date

    from fieldcollect.compliance.engine import _utc_day_transitions

    # Casablanca moved from +00 to +01 at 2010-05-02 00:00 UTC
    assert _utc_day_transitions("Africa/Casablanca", date(2010, 5, 2)) == (datetime(2010, 5, 2, tzinfo=UTC),)
    assert _utc_day_transitions("Africa/Casablanca", date(2010, 5, 1)) == ()
    assert _utc_day_transitions("America/New_York", date(2026, 3, 8)) == (datetime(2026, 3, 8, 7, tzinfo=UTC),)
