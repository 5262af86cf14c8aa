"""Property tests: random histories, flags and time zones (daylight-saving changes included).

The oracle is the naive evaluator in ``brute.py``. Properties:

* the engine blocks exactly when the oracle finds a broken rule, and names the same rules
  (so no allowed request breaks any rule);
* ``next_allowed_at`` is itself allowed, is not before the request, and no instant of a fine grid
  between the request and it is allowed;
* ``None`` (never) is only given when the oracle finds the request blocked for weeks ahead.
"""

from __future__ import annotations

import copy
import tomllib
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fieldcollect.compliance.engine import ContactRequest, Flag, LedgerEntry, check
from fieldcollect.compliance.packs import PACKS_DIR, RulePack, load_pack, parse_pack
from fieldcollect.compliance.tests.brute import violations

PACKS = {code: load_pack(code) for code in ("CN", "US", "IN")}
ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "America/Chicago",
    "Asia/Shanghai",
    "Asia/Kolkata",
    "Europe/London",
    "America/Santiago",  # daylight saving changes at local midnight
    "Australia/Lord_Howe",  # 30-minute daylight-saving shift
    "Asia/Kathmandu",  # +05:45
    "Pacific/Chatham",  # +12:45 / +13:45
]
# instants near daylight-saving changes (UTC), plus a quiet one
ANCHORS = [
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # US spring forward
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # US fall back
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # EU
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
    datetime(2026, 4, 5, 3, 0, tzinfo=UTC),  # Chile / Australia (April)
    datetime(2026, 9, 6, 4, 0, tzinfo=UTC),  # Chile (September)
    datetime(2026, 10, 4, 0, 0, tzinfo=UTC),  # Australia / Chatham-ish
    datetime(2026, 6, 10, 4, 0, tzinfo=UTC),
]
PHONES = ["A1", "A2", "B1"]
CHANNELS = ["call", "call", "call", "sms", "visit", "letter", "email"]
FLAG_NAMES = [
    "complaint",
    "dispute",
    "cease",
    "attorney",
    "deceased",
    "consent_hours",
    "consent_hours",
    "third_party_cease",
    "no_valid_number",
    "no_valid_number",
]
BOOL = st.booleans()
S_CODE = st.sampled_from(sorted(PACKS))
S_VARIANT = st.sampled_from([False, False, True])
S_ZONE = st.sampled_from(ZONES)
S_ANCHOR = st.sampled_from(ANCHORS)
S_SHIFT = st.integers(-3 * 1440, 3 * 1440)
S_SECONDS = st.sampled_from([0, 0, 30])
S_ROWS = st.integers(0, 30)
S_DEBTOR = st.sampled_from(["d1", "d1", "d1", "d2"])
S_ROW_CHANNEL = st.sampled_from(["call"] * 6 + ["sms", "visit"])
S_PARTY = st.sampled_from(["debtor", "debtor", "third_party"])
S_PHONE = st.sampled_from(PHONES)
S_ROW_PARTY = st.sampled_from(["debtor"] * 4 + ["third_party"])
S_AGENCY = st.sampled_from(["ag1", "ag2", None])
S_BURST = st.sampled_from([0, 0, 0, 3, 5, 7, 9])
S_BURST_PHONE = st.sampled_from(PHONES[:2])
S_BURST_MIN = st.integers(0, 900)
S_NFLAGS = st.integers(0, 3)
S_FLAG_LEN = st.integers(1, 6 * 1440)
S_FLAG = st.sampled_from(FLAG_NAMES)
S_CHANNEL = st.sampled_from(CHANNELS)
S_COLLECTORS = st.integers(1, 3)
S_ROW_MIN = st.one_of(st.integers(-9 * 1440, 2 * 1440), st.integers(-1440, 720), st.integers(-7 * 1440, 0))
S_FLAG_MIN = st.integers(-5 * 1440, 2 * 1440)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


RAW = {code: tomllib.loads((PACKS_DIR / f"{code.lower()}.toml").read_text(encoding="utf-8")) for code in PACKS}
S_START = st.integers(0, 12 * 60)
S_LENGTH = st.integers(60, 14 * 60)
S_CAP = st.integers(1, 5)
S_WINDOW = st.integers(1, 8)
S_SMALL = st.integers(1, 4)


def _variant(draw: st.DrawFn, code: str) -> RulePack:
    """The pack with every number redrawn: the engine must hold for any configuration."""
    data = copy.deepcopy(RAW[code])
    for rule in data["rules"]:
        if rule["kind"] == "contact_hours":
            start = draw(S_START)
            end = min(start + draw(S_LENGTH), 23 * 60 + 59)
            rule["start"], rule["end"] = f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}"
            rule["consent_override"] = draw(BOOL)
        elif rule["kind"] == "count_cap":
            rule["cap"], rule["window_days"] = draw(S_CAP), draw(S_WINDOW)
        elif rule["kind"] == "third_party_lost_contact":
            rule["consecutive_failed"] = draw(S_SMALL)
        elif rule["kind"] == "visit_team":
            rule["min_collectors"] = draw(S_SMALL)
    return parse_pack(data=data, origin=f"variant of {code}")


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[RulePack, ContactRequest, list[LedgerEntry], list[Flag]]:
    code = draw(S_CODE)
    pack = _variant(draw, code) if draw(S_VARIANT) else PACKS[code]
    tz = draw(S_ZONE)
    if code == "US" and draw(BOOL):
        tz = "America/New_York"
    anchor = draw(S_ANCHOR)
    t = anchor + timedelta(minutes=draw(S_SHIFT))

    def instant(minutes: st.SearchStrategy[int]) -> datetime:
        base = t if draw(BOOL) else anchor
        return base + timedelta(minutes=draw(minutes), seconds=draw(S_SECONDS))

    ledger: list[LedgerEntry] = []
    for _ in range(draw(S_ROWS)):
        connected = draw(BOOL)
        ledger.append(
            LedgerEntry(
                debtor_id=draw(S_DEBTOR),
                channel=draw(S_ROW_CHANNEL),
                party=draw(S_ROW_PARTY),
                phone=draw(S_PHONE),
                at=instant(S_ROW_MIN),
                connected=connected,
                conversation=connected and draw(BOOL),
                agency_id=draw(S_AGENCY),
            )
        )
    for _ in range(draw(S_BURST)):  # a busy day: calls in the hours before the request
        connected = draw(BOOL)
        ledger.append(
            LedgerEntry(
                debtor_id="d1",
                channel="call",
                party="debtor",
                phone=draw(S_BURST_PHONE),
                at=t - timedelta(minutes=draw(S_BURST_MIN)),
                connected=connected,
                conversation=connected and draw(BOOL) and draw(BOOL),
            )
        )
    flags: list[Flag] = []
    for _ in range(draw(S_NFLAGS)):
        start = instant(S_FLAG_MIN)
        end = None if draw(BOOL) and draw(BOOL) else start + timedelta(minutes=draw(S_FLAG_LEN))
        name = draw(S_FLAG)
        flags.append(
            Flag(
                debtor_id="d1",
                flag=name,
                start=start,
                end=end,
                phone=draw(S_PHONE) if name == "third_party_cease" else None,
            )
        )
    channel = draw(S_CHANNEL)
    req = ContactRequest(
        request_id="r",
        debtor_id="d1",
        tz=tz,
        channel=channel,
        party=draw(S_PARTY),
        phone=draw(S_PHONE),
        at=t,
        collectors=draw(S_COLLECTORS),
        recording=draw(BOOL) or draw(BOOL),
        appointment_confirmed=draw(BOOL) or draw(BOOL),
    )
    return pack, req, ledger, flags


def _grid(start: datetime, stop: datetime, points: int) -> list[datetime]:
    step = max((stop - start) / points, timedelta(minutes=10))
    out, x = [], start
    while x < stop:
        out.append(x)
        x += step
    return out


@SETTINGS
@given(scenarios())
def test_decision_matches_oracle_and_next_allowed_is_allowed(
    case: tuple[RulePack, ContactRequest, list[LedgerEntry], list[Flag]],
) -> None:
    pack, req, ledger, flags = case
    d = check(request=req, ledger=ledger, flags=flags, pack=pack)
    broken = violations(pack, req, ledger, flags)
    assert d.allowed == (not broken)
    assert set(d.rule_ids) == broken
    event("allowed" if d.allowed else ("blocked, never" if d.next_allowed_at is None else "blocked, later"))
    for rid in d.rule_ids:
        event(f"blocked by {rid}")
    if d.allowed:
        assert d.next_allowed_at is not None and d.next_allowed_at.astimezone(UTC) == req.at
        return
    if d.next_allowed_at is not None:
        nxt = d.next_allowed_at
        assert nxt > req.at
        assert str(nxt.tzinfo) == req.tz, "next_allowed_at is given in the debtor's zone"
        assert violations(pack, req, ledger, flags, at=nxt) == set(), "next_allowed_at must be allowed"
        for x in _grid(req.at, nxt, 250):
            assert violations(pack, req, ledger, flags, at=x), f"{x} is allowed but earlier than {nxt}"
        # one second earlier as an instant (UTC arithmetic: local wall-clock arithmetic would land in a
        # daylight-saving gap, e.g. America/Santiago's midnight jump)
        just_before = nxt.astimezone(UTC) - timedelta(seconds=1)
        if just_before > req.at:
            assert violations(pack, req, ledger, flags, at=just_before)
    else:
        for x in _grid(req.at, req.at + timedelta(days=20), 300):
            assert violations(pack, req, ledger, flags, at=x), f"said never, but {x} is allowed"


@settings(SETTINGS, max_examples=120)
@given(scenarios())
def test_replaying_the_history_in_order_never_allows_a_breach(
    case: tuple[RulePack, ContactRequest, list[LedgerEntry], list[Flag]],
) -> None:
    """Simulate a collector who always calls at next_allowed_at: no call ever breaks a rule."""
    pack, req, ledger, flags = case
    history = list(ledger)
    at = req.at
    for _ in range(6):
        r = ContactRequest(**{**req.__dict__, "at": at})
        d = check(request=r, ledger=history, flags=flags, pack=pack)
        if d.next_allowed_at is None:
            return
        r = ContactRequest(**{**req.__dict__, "at": d.next_allowed_at})
        assert violations(pack, r, history, flags) == set()
        # the call is made and logged unanswered, then the next one is requested a minute later
        history.append(
            LedgerEntry(debtor_id="d1", channel=r.channel, party=r.party, phone=r.phone, at=r.at, connected=False)
        )
        at = r.at + timedelta(minutes=1)
