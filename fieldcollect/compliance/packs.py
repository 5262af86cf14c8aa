"""Rule packs: contact rules as data, loaded from versioned TOML files.

A pack is one jurisdiction's rules (``CN``, ``US``, ``IN``) with a version, an effective date and, for
every rule, an id, a kind, its numbers, a plain-language explanation in Simplified Chinese and English
and the source it comes from. The engine (:mod:`fieldcollect.compliance.engine`) only knows the
*kinds*; every number lives in the pack file, so a compliance officer changes a number by editing
the file (or by passing a modified copy with ``--pack-file``), never the code.

Rule kinds and their keys (besides the common ``id``, ``kind``, ``source``, ``mark``, ``enabled``
and the ``[rules.explanation]`` table with ``zh-Hans`` and ``en``):

``contact_hours``
    ``start``/``end`` ("HH:MM", local time of the debtor, ``start`` allowed, ``end`` not),
    ``channels``, ``parties``, ``consent_override`` (the debtor's ``consent_hours`` flag lifts the rule for contacts with the debtor).
``count_cap``
    ``count`` (``attempts`` | ``connected`` | ``unanswered`` | ``conversations``), ``scope``
    (``debtor`` | ``phone``), ``window_days`` (local calendar days ending with the day of the
    request; 1 = the same local day), ``cap`` (blocked when the count already reached it),
    ``channels``, ``parties`` (both the requests the rule applies to and the ledger rows it counts).
``pause``
    ``flag`` (``complaint`` | ``dispute`` | ``cease`` | ``attorney`` | ``deceased``), ``channels``,
    ``parties``: blocked while such a flag is active.
``third_party_cease``
    ``channels``: a third party whose phone carries an active ``third_party_cease`` flag.
``third_party_lost_contact``
    ``consecutive_failed``, ``attempt_channels``, ``channels``: third parties only when the last
    ``consecutive_failed`` attempts to the debtor all failed, or a ``no_valid_number`` flag is active.
``visit_team`` (``min_collectors``), ``visit_recording``, ``visit_appointment``
    requirements on a field-visit request.
``collector_certified``
    ``channels``, ``parties``: a contact that names the collector making it (a call, a text) only when
    that collector's certificate and training are valid on the contact's local date (the request's
    ``collectors`` is 1, not 0); a contact naming no collector (the bank's, a system message) is not
    limited. Visits are checked by ``visit_team``.
``outsourcing_notice``
    ``waiting_days``, ``channels``, ``parties``: an agency's contact only once the debtor was sent the
    notice that the debt is handled by that agency and ``waiting_days`` whole local days of the debtor
    have passed after the day it was sent (that day does not count; 0: from the sending), see
    :func:`fieldcollect.compliance.engine.notice_ready_at` (the bank's own contacts are not limited).
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PACKS_DIR = Path(__file__).resolve().parent / "packs"

CHANNELS: frozenset[str] = frozenset({"call", "sms", "visit", "letter", "email"})
PARTIES: frozenset[str] = frozenset({"debtor", "third_party"})
PAUSE_FLAGS: frozenset[str] = frozenset({"complaint", "dispute", "cease", "attorney", "deceased", "bankrupt"})
FLAGS: frozenset[str] = PAUSE_FLAGS | {"consent_hours", "third_party_cease", "no_valid_number"}
COUNTS: frozenset[str] = frozenset({"attempts", "connected", "unanswered", "conversations"})
SCOPES: frozenset[str] = frozenset({"debtor", "phone"})
KINDS: frozenset[str] = frozenset(
    {
        "contact_hours",
        "count_cap",
        "pause",
        "third_party_cease",
        "third_party_lost_contact",
        "visit_team",
        "visit_recording",
        "visit_appointment",
        "outsourcing_notice",
        "collector_certified",
    }
)
MARKS: frozenset[str] = frozenset({"C", "S", "internal"})
LANGUAGES: tuple[str, str] = ("zh-Hans", "en")

_COMMON_KEYS = frozenset({"id", "kind", "source", "mark", "enabled", "explanation"})
_KIND_KEYS: dict[str, frozenset[str]] = {
    "contact_hours": frozenset({"start", "end", "channels", "parties", "consent_override"}),
    "count_cap": frozenset({"count", "scope", "window_days", "cap", "channels", "parties"}),
    "pause": frozenset({"flag", "channels", "parties"}),
    "third_party_cease": frozenset({"channels"}),
    "third_party_lost_contact": frozenset({"consecutive_failed", "attempt_channels", "channels"}),
    "visit_team": frozenset({"min_collectors"}),
    "visit_recording": frozenset(),
    "visit_appointment": frozenset(),
    "outsourcing_notice": frozenset({"waiting_days", "channels", "parties"}),
    "collector_certified": frozenset({"channels", "parties"}),
}
_AUDIT_KEYS = frozenset({"near_miss_minutes", "bunching_edge_minutes", "bunching_min_events", "bunching_factor"})
_ID_RE = re.compile(r"^[A-Z]{2}-[A-Z0-9][A-Z0-9-]*$")
_HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class PackError(ValueError):
    """A rule pack file is missing, unreadable or invalid; the message names the file and the place."""


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One rule of a pack.

    Attributes
    ----------
    id : str
        Stable identifier, e.g. ``CN-HOURS``; printed in every block.
    kind : str
        One of :data:`KINDS`; decides how the engine evaluates the rule.
    source : str
        Where the rule comes from (law, guideline, article).
    mark : str
        ``C`` confirmed from the legal text, ``S`` secondary report, ``internal`` bank policy.
    explanation : Mapping[str, str]
        Plain-language explanation per language (``zh-Hans``, ``en``), numbers already filled in.
    enabled : bool
        Disabled rules are kept in the file for the record but never block.
    channels, parties : frozenset[str]
        Request channels and parties the rule applies to (and, for counts, the ledger rows counted).
    """

    id: str
    kind: str
    source: str
    mark: str
    explanation: Mapping[str, str]
    enabled: bool = True
    channels: frozenset[str] = CHANNELS
    parties: frozenset[str] = PARTIES
    # contact_hours
    start: time | None = None
    end: time | None = None
    consent_override: bool = False
    # count_cap
    count: str | None = None
    scope: str | None = None
    window_days: int = 1
    cap: int = 0
    # pause
    flag: str | None = None
    # third_party_lost_contact
    consecutive_failed: int = 0
    attempt_channels: frozenset[str] = frozenset({"call"})
    # visit_team
    min_collectors: int = 0
    # outsourcing_notice
    waiting_days: int = 0

    def explain(self, lang: str = "en") -> str:
        """Explanation in ``lang`` (``zh-Hans`` or ``en``; anything starting with ``zh`` is Chinese)."""
        key = "zh-Hans" if lang.lower().startswith("zh") else "en"
        return self.explanation[key]


@dataclass(frozen=True, kw_only=True)
class AuditSettings:
    """Thresholds of the after-the-fact audit (see :mod:`fieldcollect.compliance.audit`)."""

    near_miss_minutes: int = 10
    bunching_edge_minutes: int = 5
    bunching_min_events: int = 5
    bunching_factor: float = 3.0


@dataclass(frozen=True, kw_only=True)
class RulePack:
    """A jurisdiction's rules, as read from one pack file."""

    code: str
    version: str
    effective_from: date
    name: Mapping[str, str]
    default_tz: str
    rules: tuple[Rule, ...]
    audit: AuditSettings = field(default_factory=AuditSettings)
    path: str = ""

    def rule(self, rule_id: str) -> Rule:
        """The rule with id ``rule_id`` (KeyError if the pack has none)."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    @property
    def active_rules(self) -> tuple[Rule, ...]:
        """Enabled rules, in file order."""
        return tuple(r for r in self.rules if r.enabled)

    def is_effective(self, *, on: date) -> bool:
        """Whether the pack is in force on ``on`` (on or after its effective date)."""
        return on >= self.effective_from


def available_packs() -> list[str]:
    """Codes of the packs shipped with fieldcollect (file stems, upper case)."""
    return sorted(p.stem.upper() for p in PACKS_DIR.glob("*.toml"))


def load_pack(code: str) -> RulePack:
    """Load the shipped pack for jurisdiction ``code`` (``CN``, ``US``, ``IN``; case-insensitive)."""
    path = PACKS_DIR / f"{code.strip().lower()}.toml"
    if not path.is_file():
        raise PackError(f"no rule pack for {code!r}; available: {', '.join(available_packs())}")
    pack = load_pack_file(path)
    if pack.code != code.strip().upper():
        raise PackError(f"{path}: pack.code is {pack.code!r} but the file is named for {code.upper()!r}")
    return pack


def history_dir(packs_dir: Path | None = None) -> Path:
    """Where earlier (or announced later) versions of the packs live: ``packs/history/<code>-<version>.toml``."""
    return (packs_dir or PACKS_DIR) / "history"


def pack_versions(code: str, *, packs_dir: Path | None = None) -> tuple[RulePack, ...]:
    """Every version of the pack of jurisdiction ``code``, by ``effective_from`` (oldest first): the
    current file ``<code>.toml`` and the versions kept in :func:`history_dir` (``<code>-*.toml``). Two
    versions with the same effective date or the same version name are an error (which would decide?)."""
    folder = packs_dir or PACKS_DIR
    code = code.strip().upper()
    main = folder / f"{code.lower()}.toml"
    if not main.is_file():
        raise PackError(f"no rule pack for {code!r}; available: {', '.join(available_packs())}")
    paths = [main, *sorted(history_dir(folder).glob(f"{code.lower()}-*.toml"))]
    versions = []
    for path in paths:
        pack = load_pack_file(path)
        if pack.code != code:
            raise PackError(f"{path}: pack.code is {pack.code!r} but the file is named for {code!r}")
        versions.append(pack)
    versions.sort(key=lambda p: p.effective_from)
    for a, b in itertools.pairwise(versions):
        if a.effective_from == b.effective_from or a.version == b.version:
            raise PackError(f"{a.path} and {b.path}: two versions of {code} with the same effective date or version")
    return tuple(versions)


def pack_in_force(versions: Sequence[RulePack], *, on: date) -> RulePack:
    """The version of ``versions`` (oldest first, as :func:`pack_versions` gives them) in force on
    ``on``: the latest whose ``effective_from`` is on or before ``on``. A date before every version
    gets the oldest one (the rules known for the earliest time: nothing older is on file)."""
    if not versions:
        raise PackError("no versions")
    chosen = versions[0]
    for pack in versions:
        if pack.effective_from <= on:
            chosen = pack
    return chosen


def load_pack_file(path: str | Path) -> RulePack:
    """Load and validate a pack file (e.g. a compliance officer's modified copy)."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise PackError(f"{p}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{p}: not valid TOML: {exc}") from exc
    return parse_pack(data=data, origin=str(p))


def parse_pack(*, data: Mapping[str, Any], origin: str = "<pack>") -> RulePack:
    """Validate the parsed TOML of a pack and build a :class:`RulePack`.

    Raises
    ------
    PackError
        On the first problem found, naming ``origin``, the rule id and the key.
    """
    head = data.get("pack")
    if not isinstance(head, Mapping):
        raise PackError(f"{origin}: missing [pack] table")
    where = f"{origin}: [pack]"
    code = _req(head, "code", str, where)
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise PackError(f"{where}: code must be two upper-case letters, got {code!r}")
    version = _req(head, "version", str, where)
    eff = head.get("effective_from")
    if not isinstance(eff, date) or hasattr(eff, "hour"):
        raise PackError(f"{where}: effective_from must be a TOML date like 2026-01-01")
    name = _languages(head.get("name"), f"{where} name")
    default_tz = _req(head, "default_tz", str, where)
    _zone(default_tz, f"{where} default_tz")

    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise PackError(f"{origin}: a pack needs at least one [[rules]] entry")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_rules, start=1):
        rule = _parse_rule(raw, f"{origin}: rule #{i}", code)
        if rule.id in seen:
            raise PackError(f"{origin}: rule id {rule.id} appears twice")
        seen.add(rule.id)
        rules.append(rule)

    audit = AuditSettings()
    raw_audit = data.get("audit", {})
    if not isinstance(raw_audit, Mapping):
        raise PackError(f"{origin}: [audit] must be a table")
    unknown = set(raw_audit) - _AUDIT_KEYS
    if unknown:
        raise PackError(f"{origin}: [audit] unknown key(s) {sorted(unknown)}")
    if raw_audit:
        audit = AuditSettings(
            near_miss_minutes=_int(raw_audit, "near_miss_minutes", f"{origin}: [audit]", 0, 600, 10),
            bunching_edge_minutes=_int(raw_audit, "bunching_edge_minutes", f"{origin}: [audit]", 1, 120, 5),
            bunching_min_events=_int(raw_audit, "bunching_min_events", f"{origin}: [audit]", 1, 10_000, 5),
            bunching_factor=float(_num(raw_audit, "bunching_factor", f"{origin}: [audit]", 3.0)),
        )
    return RulePack(
        code=code,
        version=version,
        effective_from=eff,
        name=name,
        default_tz=default_tz,
        rules=tuple(rules),
        audit=audit,
        path=origin,
    )


def _parse_rule(raw: Any, where: str, code: str) -> Rule:
    if not isinstance(raw, Mapping):
        raise PackError(f"{where}: must be a table")
    rid = _req(raw, "id", str, where)
    where = f"{where.rsplit(':', 1)[0]}: rule {rid}"
    if not _ID_RE.match(rid) or not rid.startswith(code + "-"):
        raise PackError(f"{where}: id must look like {code}-SOMETHING (upper case, digits, dashes)")
    kind = _req(raw, "kind", str, where)
    if kind not in KINDS:
        raise PackError(f"{where}: kind {kind!r} is not one of {sorted(KINDS)}")
    unknown = set(raw) - _COMMON_KEYS - _KIND_KEYS[kind]
    if unknown:
        raise PackError(f"{where}: unknown key(s) {sorted(unknown)} for kind {kind}")
    source = _req(raw, "source", str, where)
    if not source.strip():
        raise PackError(f"{where}: source must not be empty")
    mark = _req(raw, "mark", str, where)
    if mark not in MARKS:
        raise PackError(f"{where}: mark must be one of {sorted(MARKS)}, got {mark!r}")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise PackError(f"{where}: enabled must be true or false")

    kw: dict[str, Any] = {}
    if "channels" in _KIND_KEYS[kind]:
        kw["channels"] = _set(raw, "channels", CHANNELS, where, CHANNELS)
    if "parties" in _KIND_KEYS[kind]:
        kw["parties"] = _set(raw, "parties", PARTIES, where, PARTIES)
    if kind in {"visit_team", "visit_recording", "visit_appointment"}:
        kw["channels"] = frozenset({"visit"})
    if kind in {"third_party_cease", "third_party_lost_contact"}:
        kw["parties"] = frozenset({"third_party"})

    if kind == "contact_hours":
        start = _hhmm(raw, "start", where)
        end = _hhmm(raw, "end", where)
        if not start < end:
            raise PackError(f"{where}: start must be before end (windows over midnight are not supported)")
        consent = raw.get("consent_override", False)
        if not isinstance(consent, bool):
            raise PackError(f"{where}: consent_override must be true or false")
        kw.update(start=start, end=end, consent_override=consent)
    elif kind == "count_cap":
        count = _req(raw, "count", str, where)
        if count not in COUNTS:
            raise PackError(f"{where}: count must be one of {sorted(COUNTS)}, got {count!r}")
        scope = _req(raw, "scope", str, where)
        if scope not in SCOPES:
            raise PackError(f"{where}: scope must be one of {sorted(SCOPES)}, got {scope!r}")
        kw.update(
            count=count,
            scope=scope,
            window_days=_int(raw, "window_days", where, 1, 366, None),
            cap=_int(raw, "cap", where, 1, 10_000, None),
        )
    elif kind == "pause":
        flag = _req(raw, "flag", str, where)
        if flag not in PAUSE_FLAGS:
            raise PackError(f"{where}: flag must be one of {sorted(PAUSE_FLAGS)}, got {flag!r}")
        kw["flag"] = flag
    elif kind == "third_party_lost_contact":
        kw["consecutive_failed"] = _int(raw, "consecutive_failed", where, 1, 1000, None)
        kw["attempt_channels"] = _set(raw, "attempt_channels", CHANNELS, where, frozenset({"call"}))
    elif kind == "visit_team":
        kw["min_collectors"] = _int(raw, "min_collectors", where, 1, 100, None)
    elif kind == "outsourcing_notice":
        kw["waiting_days"] = _int(raw, "waiting_days", where, 0, 365, None)

    params = {
        "start": kw["start"].strftime("%H:%M") if "start" in kw else "",
        "end": kw["end"].strftime("%H:%M") if "end" in kw else "",
        **{k: v for k, v in kw.items() if isinstance(v, int | str) and not isinstance(v, bool)},
    }
    texts = _languages(raw.get("explanation"), f"{where} explanation")
    filled: dict[str, str] = {}
    for lang, text in texts.items():
        try:
            filled[lang] = text.format(**params)
        except (KeyError, IndexError, ValueError) as exc:
            raise PackError(f"{where}: explanation {lang} has a bad placeholder: {exc}") from exc
    return Rule(id=rid, kind=kind, source=source, mark=mark, explanation=filled, enabled=enabled, **kw)


def _req(raw: Mapping[str, Any], key: str, typ: type, where: str) -> Any:
    if key not in raw:
        raise PackError(f"{where}: missing key {key!r}")
    value = raw[key]
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise PackError(f"{where}: {key} must be a {typ.__name__}, got {value!r}")
    return value


def _int(raw: Mapping[str, Any], key: str, where: str, lo: int, hi: int, default: int | None) -> int:
    if key not in raw:
        if default is None:
            raise PackError(f"{where}: missing key {key!r}")
        return default
    value = raw[key]
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise PackError(f"{where}: {key} must be an integer in [{lo}, {hi}], got {value!r}")
    return value


def _num(raw: Mapping[str, Any], key: str, where: str, default: float) -> float:
    value = raw.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise PackError(f"{where}: {key} must be a positive number, got {value!r}")
    return float(value)


def _set(raw: Mapping[str, Any], key: str, allowed: frozenset[str], where: str, default: frozenset[str]) -> frozenset[str]:
    if key not in raw:
        return default
    value = raw[key]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise PackError(f"{where}: {key} must be a non-empty list of strings")
    bad = set(value) - allowed
    if bad:
        raise PackError(f"{where}: {key} has unknown value(s) {sorted(bad)}; allowed {sorted(allowed)}")
    return frozenset(value)


def _hhmm(raw: Mapping[str, Any], key: str, where: str) -> time:
    value = _req(raw, key, str, where)
    m = _HHMM_RE.match(value)
    if not m:
        raise PackError(f"{where}: {key} must be HH:MM (00:00-23:59), got {value!r}")
    return time(int(m.group(1)), int(m.group(2)))


def _languages(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise PackError(f"{where}: must be a table with keys {list(LANGUAGES)}")
    out: dict[str, str] = {}
    for lang in LANGUAGES:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise PackError(f"{where}: missing or empty {lang!r} text")
        out[lang] = text
    return out


def _zone(name: str, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PackError(f"{where}: unknown IANA time zone {name!r}") from exc
