"""Pre-contact compliance check: a pure function of one debtor's contact ledger, flags and a rule pack.

The caller passes the request (who, how, when, in which time zone), the debtor's contact ledger across
the bank and every agency, the debtor's flags and the pack of the loan's jurisdiction, and gets a
:class:`Decision`: allowed or not, the ids and explanations (zh-Hans and English) of the rules that
block, and ``next_allowed_at``, the earliest instant at which the same request would be allowed.

Semantics
---------
* Every rule is evaluated in the debtor's local time (``request.tz``, an IANA zone; daylight saving
  included). A "day" is a local calendar day; a window of ``n`` days is the request's local day and
  the ``n - 1`` local days before it.
* The ledger is history *as known at the instant checked*: rows with ``at <= instant`` count, later
  rows are ignored (so a replay of a day gives the decision the system would have given then).
* A flag is active on ``[from, to)``; ``to = None`` means until further notice.
* ``next_allowed_at`` is found by evaluating the rules at candidate instants — boundaries of the
  contact hours and of local days (both sides of every daylight-saving change), ledger times (when
  they enter the history) and flag start/end — because the decision can only change at such an
  instant. Rules that can never change for the same request (a visit without recording, a pause
  without end, a third party with contact not lost and no later history) give ``None``.
  When the request is allowed, ``next_allowed_at`` is the request time itself.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fieldcollect.compliance.packs import CHANNELS, FLAGS, PARTIES, Rule, RulePack

__all__ = [
    "ContactRequest",
    "DebtorHistory",
    "Decision",
    "Explanation",
    "Flag",
    "LedgerEntry",
    "check",
    "check_history",
    "count_in_window",
    "counted",
    "group_by_debtor",
    "normalise_phone",
    "notice_ready_at",
    "zone",
]

_EPS: Final = timedelta(microseconds=1)
_CHUNK: Final = timedelta(days=2)
_MAX_OFFSET: Final = timedelta(hours=16)  # larger than any UTC offset in the tz database


class _Never:
    """Sentinel lower bound: the rule will block the same request at every later instant."""

    def __repr__(self) -> str:
        return "NEVER"


NEVER: Final = _Never()
_Bound = datetime | _Never | None  # None: no information, try the next candidate


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The :class:`ZoneInfo` for an IANA name (ValueError with a clear message if unknown)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc


_PHONE_STRIP = re.compile(r"[\s\-().]")


def normalise_phone(phone: str | None) -> str | None:
    """Phone number as compared by the rules: spaces, dashes, dots and brackets removed."""
    if phone is None:
        return None
    return _PHONE_STRIP.sub("", phone) or None


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (ISO-8601 with an offset)")
    return value.astimezone(UTC)


def _check_channel_and_party(channel: str, party: str) -> None:
    """``ValueError`` unless a contact's channel and party are known ones."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {sorted(CHANNELS)}, got {channel!r}")
    if party not in PARTIES:
        raise ValueError(f"party must be one of {sorted(PARTIES)}, got {party!r}")


@dataclass(frozen=True, kw_only=True)
class LedgerEntry:
    """One contact attempt by the bank or any agency (the shared contact ledger).

    ``at`` is stored in UTC; ``conversation`` (a telephone conversation took place) implies
    ``connected``.
    """

    debtor_id: str
    channel: str
    party: str
    at: datetime
    phone: str | None = None
    connected: bool = False
    conversation: bool = False
    agency_id: str | None = None

    def __post_init__(self) -> None:
        _check_channel_and_party(self.channel, self.party)
        if self.conversation and not self.connected:
            raise ValueError("conversation=true needs connected=true")
        object.__setattr__(self, "at", _aware(self.at, "at"))


@dataclass(frozen=True, kw_only=True)
class Flag:
    """A state of the debtor that limits contact, active on ``[start, end)`` (``end=None``: open)."""

    debtor_id: str
    flag: str
    start: datetime
    end: datetime | None = None
    phone: str | None = None

    def __post_init__(self) -> None:
        if self.flag not in FLAGS:
            raise ValueError(f"flag must be one of {sorted(FLAGS)}, got {self.flag!r}")
        if self.flag == "third_party_cease" and not normalise_phone(self.phone):
            raise ValueError("a third_party_cease flag needs the third party's phone")
        object.__setattr__(self, "start", _aware(self.start, "from"))
        if self.end is not None:
            object.__setattr__(self, "end", _aware(self.end, "to"))
            if self.end <= self.start:
                raise ValueError("to must be after from")

    def active_at(self, t: datetime) -> bool:
        """Whether the flag is active at instant ``t``."""
        return self.start <= t and (self.end is None or t < self.end)


@dataclass(frozen=True, kw_only=True)
class ContactRequest:
    """A contact someone wants to make (or schedule) now or at ``at``.

    Visit requests carry ``collectors`` (collectors with valid certification), ``recording`` and
    ``appointment_confirmed``; missing values count as not satisfied. Another contact that names the
    collector making it carries ``collectors`` 1 (certified on the contact's local date) or 0 (lapsed);
    ``None``: no collector named.
    """

    request_id: str
    debtor_id: str
    tz: str
    channel: str
    party: str
    at: datetime
    phone: str | None = None
    collectors: int | None = None
    recording: bool | None = None
    appointment_confirmed: bool | None = None
    # an agency's contact: the agency, and when the debtor was sent the notice that the debt is handled
    # by it (``None``: not sent); the bank's own contacts leave both empty
    agency_id: str | None = None
    notice_sent_at: datetime | None = None

    def __post_init__(self) -> None:
        _check_channel_and_party(self.channel, self.party)
        zone(self.tz)
        object.__setattr__(self, "at", _aware(self.at, "at"))
        if self.notice_sent_at is not None:
            object.__setattr__(self, "notice_sent_at", _aware(self.notice_sent_at, "notice_sent_at"))

    def notice_ready_at(self, rule: Rule) -> datetime | None:
        """When an ``outsourcing_notice`` rule's waiting days after the notice have passed (``None``: no
        notice sent): see :func:`notice_ready_at`."""
        if self.notice_sent_at is None:
            return None
        return notice_ready_at(sent_at=self.notice_sent_at, waiting_days=rule.waiting_days, tz=self.tz)


def notice_ready_at(*, sent_at: datetime, waiting_days: int, tz: str) -> datetime:
    """The first instant an agency may contact a debtor who was sent the notice before outsourcing at
    ``sent_at``: ``waiting_days`` whole local days of the debtor (zone ``tz``) after the day it was
    sent, which does not count (a period in days starts on the next day, 民法典 第201条): a notice sent
    on Monday at any hour with 3 waiting days allows contacts from Friday 00:00 local time. With 0
    waiting days, from the sending itself. The one place this is computed (the pre-contact check, the
    replay of logged and reported contacts, and the demo's scheduling all call it)."""
    sent = _aware(sent_at, "sent_at")
    if waiting_days <= 0:
        return sent
    day = sent.astimezone(zone(tz)).date() + timedelta(days=waiting_days + 1)
    return _local_day_start(tz, day)


def _local_day_start(tzname: str, day: date) -> datetime:
    """The first instant (UTC) of the local day ``day`` in ``tzname`` (after a gap at midnight: its end)."""
    tz = zone(tzname)
    return min(c for c in _wall_instants(tzname, day, (time(0, 0),)) if c.astimezone(tz).date() == day)


@dataclass(frozen=True)
class Explanation:
    """Why a rule blocked, in both languages, with the rule's source."""

    rule_id: str
    zh_hans: str
    en: str
    source: str

    def text(self, lang: str = "en") -> str:
        """The explanation in ``lang`` (``zh*`` gives Chinese, anything else English)."""
        return self.zh_hans if lang.lower().startswith("zh") else self.en


@dataclass(frozen=True)
class Decision:
    """Result of :func:`check`.

    Attributes
    ----------
    allowed : bool
    rule_ids : tuple[str, ...]
        Ids of the blocking rules, in pack order (empty when allowed).
    explanations : tuple[Explanation, ...]
        One per blocking rule.
    next_allowed_at : datetime | None
        Earliest instant, in the debtor's local time, at which the same request is allowed; the
        request time when allowed; ``None`` when it never will be on the current ledger and flags.
    pack : str
        ``CODE@version`` of the pack that decided.
    """

    allowed: bool
    rule_ids: tuple[str, ...]
    explanations: tuple[Explanation, ...]
    next_allowed_at: datetime | None
    pack: str = ""

    def explain(self, lang: str = "en") -> list[str]:
        """The explanations as text in ``lang``."""
        return [e.text(lang) for e in self.explanations]


@dataclass
class DebtorHistory:
    """One debtor's ledger and flags, sorted and indexed for repeated checks (not thread-safe)."""

    debtor_id: str
    events: list[LedgerEntry]
    flags: list[Flag]
    _times: list[datetime] = field(default_factory=list, repr=False)
    _phones: list[str | None] = field(default_factory=list, repr=False)
    _dates: dict[str, list[date]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, *, debtor_id: str, ledger: Iterable[LedgerEntry], flags: Iterable[Flag]) -> DebtorHistory:
        """Keep the rows of ``debtor_id`` and index them."""
        events = sorted((e for e in ledger if e.debtor_id == debtor_id), key=lambda e: e.at)
        return cls(
            debtor_id=debtor_id,
            events=events,
            flags=[f for f in flags if f.debtor_id == debtor_id],
            _times=[e.at for e in events],
            _phones=[normalise_phone(e.phone) for e in events],
        )

    def prefix(self, n: int, flags: Iterable[Flag] | None = None) -> DebtorHistory:
        """The history of the first ``n`` events only (the ledger before the ``n``-th contact), sharing
        this one's indexes (a replay of a debtor's contacts one after the other builds the history
        once); ``flags`` replace the flags when given."""
        return DebtorHistory(
            debtor_id=self.debtor_id, events=self.events[:n],
            flags=list(self.flags) if flags is None else [f for f in flags if f.debtor_id == self.debtor_id],
            _times=self._times[:n], _phones=self._phones[:n],
            _dates={tz: dates[:n] for tz, dates in self._dates.items()},
        )

    def local_dates(self, tz: str) -> list[date]:
        """Local calendar date of every event in zone ``tz`` (cached)."""
        if tz not in self._dates:
            z = zone(tz)
            self._dates[tz] = [t.astimezone(z).date() for t in self._times]
        return self._dates[tz]

    def upto(self, t: datetime) -> int:
        """Number of events in the history at instant ``t`` (rows with ``at <= t``)."""
        return bisect.bisect_right(self._times, t)


def check(
    *,
    request: ContactRequest,
    ledger: Iterable[LedgerEntry],
    flags: Iterable[Flag],
    pack: RulePack,
) -> Decision:
    """Decide whether ``request`` may go ahead under ``pack``.

    Parameters
    ----------
    request : ContactRequest
        The contact to check, with the debtor's IANA time zone.
    ledger : Iterable[LedgerEntry]
        The debtor's contact ledger across the bank and all agencies (rows of other debtors ignored).
    flags : Iterable[Flag]
        The debtor's flags (complaint, dispute, cease, attorney, deceased, consent_hours,
        third_party_cease, no_valid_number).
    pack : RulePack
        The rules of the loan's jurisdiction.

    Returns
    -------
    Decision
    """
    history = DebtorHistory.build(debtor_id=request.debtor_id, ledger=ledger, flags=flags)
    return check_history(request=request, history=history, pack=pack)


def check_history(*, request: ContactRequest, history: DebtorHistory, pack: RulePack) -> Decision:
    """Same as :func:`check` on a prebuilt :class:`DebtorHistory` (batch use)."""
    if history.debtor_id != request.debtor_id:
        raise ValueError("history and request are for different debtors")
    ev = _Evaluator(request=request, history=history, pack=pack)
    t0 = request.at
    blocks = ev.blocks_at(t0)
    tz = zone(request.tz)
    tag = f"{pack.code}@{pack.version}"
    if not blocks:
        return Decision(True, (), (), t0.astimezone(tz), tag)
    nxt = ev.next_allowed(t0, blocks)
    rules = [r for r, _ in blocks]
    return Decision(
        False,
        tuple(r.id for r in rules),
        tuple(Explanation(r.id, r.explanation["zh-Hans"], r.explanation["en"], r.source) for r in rules),
        nxt.astimezone(tz) if nxt is not None else None,
        tag,
    )


class _Evaluator:
    """Evaluates the rules of one pack for one request at any instant."""

    def __init__(self, *, request: ContactRequest, history: DebtorHistory, pack: RulePack) -> None:
        self.req = request
        self.h = history
        self.pack = pack
        self.tz = zone(request.tz)
        self.phone = normalise_phone(request.phone)
        self.rules = [r for r in pack.active_rules if self._applies(r)]

    def _applies(self, rule: Rule) -> bool:
        return self.req.channel in rule.channels and self.req.party in rule.parties

    # ----------------------------------------------------------------- evaluation at an instant
    def blocks_at(self, t: datetime) -> list[tuple[Rule, _Bound]]:
        """Blocking rules at ``t`` with, for each, a lower bound of when it may stop blocking."""
        out: list[tuple[Rule, _Bound]] = []
        local = t.astimezone(self.tz)
        for rule in self.rules:
            blocked, bound = self._eval(rule, t, local)
            if blocked:
                out.append((rule, bound))
        return out

    def _flags(self, name: str, t: datetime) -> list[Flag]:
        return [f for f in self.h.flags if f.flag == name and f.active_at(t)]

    def _eval(self, rule: Rule, t: datetime, local: datetime) -> tuple[bool, _Bound]:
        kind = rule.kind
        if kind == "contact_hours":
            assert rule.start is not None and rule.end is not None
            if rule.consent_override and self.req.party == "debtor" and self._flags("consent_hours", t):
                return False, None
            wall = local.time()
            return not (rule.start <= wall < rule.end), None
        if kind == "count_cap":
            n, oldest = self._count(rule, t, local.date())
            if n < rule.cap or oldest is None:
                return False, None
            # No counted row leaves the window before the local date reaches oldest + window_days,
            # and no local clock shows that date earlier than 16 hours before it starts in UTC.
            leaves = datetime.combine(oldest + timedelta(days=rule.window_days), time(0, 0), tzinfo=UTC)
            return True, leaves - _MAX_OFFSET
        if kind == "pause":
            assert rule.flag is not None
            return self._flag_block(self._flags(rule.flag, t))
        if kind == "third_party_cease":
            active = [f for f in self._flags("third_party_cease", t) if normalise_phone(f.phone) == self.phone]
            return self._flag_block(active)
        if kind == "third_party_lost_contact":
            return self._lost_contact(rule, t)
        if kind == "visit_team":
            ok = self.req.collectors is not None and self.req.collectors >= rule.min_collectors
            return not ok, NEVER
        if kind == "collector_certified":
            # the collector named for the contact (``collectors`` 0 or 1); none named: not limited
            return self.req.collectors is not None and self.req.collectors < 1, NEVER
        if kind == "visit_recording":
            return self.req.recording is not True, NEVER
        if kind == "visit_appointment":
            return self.req.appointment_confirmed is not True, NEVER
        if kind == "outsourcing_notice":
            if self.req.agency_id is None:
                return False, None  # the bank's own contact
            ready = self.req.notice_ready_at(rule)
            if ready is None:
                return True, NEVER  # only sending the notice changes this
            return (True, ready) if t < ready else (False, None)
        raise AssertionError(f"unknown rule kind {kind}")  # pragma: no cover - packs are validated

    @staticmethod
    def _flag_block(active: Sequence[Flag]) -> tuple[bool, _Bound]:
        if not active:
            return False, None
        ends = [f.end for f in active]
        if any(e is None for e in ends):
            return True, NEVER
        return True, max(e for e in ends if e is not None)

    def _count(self, rule: Rule, t: datetime, day: date) -> tuple[int, date | None]:
        """Rows counted by ``rule`` at ``t`` and the earliest local date among them."""
        return count_in_window(rule, self.h, t=t, day=day, tz=self.req.tz, phone=self.phone)

    def _lost_contact(self, rule: Rule, t: datetime) -> tuple[bool, _Bound]:
        if self._flags("no_valid_number", t):
            return False, None
        need = rule.consecutive_failed
        failed = 0
        i = self.h.upto(t) - 1
        while i >= 0 and failed < need:
            e = self.h.events[i]
            if e.party == "debtor" and e.channel in rule.attempt_channels:
                if e.connected:
                    break
                failed += 1
            i -= 1
        if failed >= need:
            return False, None
        # Only a later ledger row or a no_valid_number flag can change this.
        later: list[datetime] = []
        j = self.h.upto(t)
        for e in self.h.events[j:]:
            if e.party == "debtor" and e.channel in rule.attempt_channels:
                later.append(e.at)
                break
        later += [f.start for f in self.h.flags if f.flag == "no_valid_number" and f.start > t]
        return True, (min(later) if later else NEVER)

    # ----------------------------------------------------------------- next allowed instant
    def horizon(self, t0: datetime) -> datetime:
        """After this instant nothing but the local clock changes the decision."""
        marks = [t0]
        if self.h._times:
            marks.append(self.h._times[-1])
        for f in self.h.flags:
            marks.append(f.start)
            if f.end is not None:
                marks.append(f.end)
        for r in self.rules:
            ready = self.req.notice_ready_at(r) if r.kind == "outsourcing_notice" else None
            if ready is not None:
                marks.append(ready)
        longest = max((r.window_days for r in self.rules if r.kind == "count_cap"), default=1)
        return max(marks) + timedelta(days=longest + 3)

    def next_allowed(self, t0: datetime, blocks: list[tuple[Rule, _Bound]]) -> datetime | None:
        """Earliest instant after ``t0`` at which no rule blocks (``None`` if there is none)."""
        jump = self._jump(t0 + _EPS, blocks)
        if jump is None:
            return None
        end = self.horizon(t0)
        lo = jump
        while lo <= end:
            hi = lo + _CHUNK
            restart: datetime | None = None
            for c in self._candidates(lo, hi):
                found = self.blocks_at(c)
                if not found:
                    return c
                nxt = self._jump(c + _EPS, found)
                if nxt is None:
                    return None
                if nxt > c + _EPS:  # a rule is known to block until nxt: skip ahead
                    restart = nxt
                    break
            lo = restart if restart is not None else hi
        return None

    @staticmethod
    def _jump(default: datetime, blocks: list[tuple[Rule, _Bound]]) -> datetime | None:
        best = default
        for _, bound in blocks:
            if isinstance(bound, _Never):
                return None
            if bound is not None and bound > best:
                best = bound
        return best

    def _candidates(self, lo: datetime, hi: datetime) -> list[datetime]:
        """Instants in ``[lo, hi)`` at which the decision may change, sorted."""
        walls = {time(0, 0)}
        for r in self.rules:
            if r.kind == "contact_hours" and r.start is not None and r.end is not None:
                walls |= {r.start, r.end}
        key = tuple(sorted(walls))
        out: set[datetime] = set()
        d = lo.astimezone(self.tz).date() - timedelta(days=1)
        d1 = hi.astimezone(self.tz).date() + timedelta(days=1)
        while d <= d1:
            out.update(c for c in _wall_instants(self.req.tz, d, key) if lo <= c < hi)
            d += timedelta(days=1)
        u = lo.astimezone(UTC).date()
        while u <= hi.astimezone(UTC).date():
            out.update(c for c in _utc_day_transitions(self.req.tz, u) if lo <= c < hi)
            u += timedelta(days=1)
        times = self.h._times
        for i in range(bisect.bisect_left(times, lo), bisect.bisect_left(times, hi)):
            out.add(times[i])
        for f in self.h.flags:
            for b in (f.start, f.end):
                if b is not None and lo <= b < hi:
                    out.add(b)
        for r in self.rules:
            ready = self.req.notice_ready_at(r) if r.kind == "outsourcing_notice" else None
            if ready is not None and lo <= ready < hi:
                out.add(ready)
        return sorted(out)


@lru_cache(maxsize=65536)
def _wall_instants(tzname: str, day: date, walls: tuple[time, ...]) -> tuple[datetime, ...]:
    """UTC instants at which the local clock of ``tzname`` shows each of ``walls`` on ``day``.

    Both folds are taken, so a wall time in a repeated hour gives two instants and one in a skipped
    hour gives the instants just around the gap (the gap itself is covered by the transitions).
    """
    tz = zone(tzname)
    out = set()
    for w in walls:
        naive = datetime.combine(day, w)
        for fold in (0, 1):
            out.add(naive.replace(tzinfo=tz, fold=fold).astimezone(UTC))
    return tuple(sorted(out))


@lru_cache(maxsize=65536)
def _utc_day_transitions(tzname: str, day: date) -> tuple[datetime, ...]:
    """UTC-offset changes of ``tzname`` during the UTC day ``day``."""
    lo = datetime.combine(day, time(0, 0), tzinfo=UTC)
    found = _transitions(zone(tzname), lo - timedelta(seconds=1), lo + timedelta(days=1))
    return tuple(c for c in found if c >= lo)


def count_in_window(rule: Rule, history: DebtorHistory, *, t: datetime, day: date, tz: str, phone: str | None,
                    upto: int | None = None) -> tuple[int, date | None]:
    """Rows of ``history`` that the count cap ``rule`` counts at ``t``, and the earliest local date among them.

    A row counts when it is of the rule's channels and parties (and of ``phone``, normalised, when the
    rule counts per number), of the kind it counts (:func:`counted`) and on a local date (zone ``tz``)
    in the rule's window ending on ``day``, the local date of ``t``. The rows read are those known at
    ``t`` (``at <= t``), or the first ``upto`` rows of the history when given (an after-the-fact replay
    that reads the ledger up to a given row).
    """
    first_day = day - timedelta(days=rule.window_days - 1)
    floor = t - timedelta(days=rule.window_days + 2)
    n = 0
    oldest: date | None = None
    i = (history.upto(t) if upto is None else upto) - 1
    events, times, dates, phones = history.events, history._times, history.local_dates(tz), history._phones
    while i >= 0 and times[i] >= floor:
        e = events[i]
        if (
            first_day <= dates[i] <= day
            and e.channel in rule.channels
            and e.party in rule.parties
            and (rule.scope != "phone" or phones[i] == phone)
            and counted(rule, e)
        ):
            n += 1
            if oldest is None or dates[i] < oldest:
                oldest = dates[i]
        i -= 1
    return n, oldest


def counted(rule: Rule, e: LedgerEntry) -> bool:
    """Whether ``e`` is of the kind the count cap ``rule`` counts (attempts, connected, unanswered, conversations)."""
    what = rule.count
    if what == "attempts":
        return True
    if what == "connected":
        return e.connected
    if what == "unanswered":
        return not e.connected
    if what == "conversations":
        return e.conversation
    raise AssertionError(what)  # pragma: no cover


def _transitions(tz: ZoneInfo, lo: datetime, hi: datetime) -> list[datetime]:
    """UTC-offset changes of ``tz`` in ``[lo, hi)`` (hourly scan, then bisection on whole seconds)."""
    out: list[datetime] = []
    step = timedelta(hours=1)
    a = lo
    off_a = a.astimezone(tz).utcoffset()
    while a < hi:
        b = min(a + step, hi)
        off_b = b.astimezone(tz).utcoffset()
        if off_b != off_a:
            x = math.floor(a.timestamp())  # offset at x is off_a (transitions fall on whole seconds)
            y = math.ceil(b.timestamp())  # offset at y is not
            while y - x > 1:
                m = (x + y) // 2
                if datetime.fromtimestamp(m, UTC).astimezone(tz).utcoffset() == off_a:
                    x = m
                else:
                    y = m
            c = datetime.fromtimestamp(y, UTC)
            if lo <= c < hi:
                out.append(c)
        a, off_a = b, off_b
    return out


def group_by_debtor(rows: Iterable[LedgerEntry]) -> Mapping[str, list[LedgerEntry]]:
    """Ledger rows per debtor id (for batch checks)."""
    out: dict[str, list[LedgerEntry]] = {}
    for r in rows:
        out.setdefault(r.debtor_id, []).append(r)
    return out
