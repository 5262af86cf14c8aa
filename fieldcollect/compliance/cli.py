"""`fieldcollect compliance …`: batch contact checks, the after-the-fact audit and the rule packs.

Input files are JSON lines (one object per line, blank lines ignored):

* ledger: ``{"debtor_id", "channel": "call|sms|visit|letter|email", "party": "debtor|third_party",
  "phone", "at": ISO-8601 with offset, "connected": bool, "conversation": bool, "agency_id"}``
* flags: ``{"debtor_id", "flag": "complaint|dispute|cease|attorney|consent_hours|deceased|
  third_party_cease|no_valid_number", "phone" (third_party_cease), "from": ISO-8601, "to": ISO-8601|null}``
* requests: ``{"request_id", "debtor_id", "tz": IANA zone, "channel", "party", "phone", "at",
  "collectors": int, "recording": bool, "appointment_confirmed": bool}`` (the last three for visits)

A malformed line stops the command with exit code 2 and a message naming the file, the line, the
field and the reason.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from fieldcollect.compliance.engine import ContactRequest, Flag, LedgerEntry
    from fieldcollect.compliance.packs import RulePack

app = typer.Typer(no_args_is_help=True, help="Contact-rule checks, audits and rule packs.")

_CHANNELS = ("call", "sms", "visit", "letter", "email")
_PARTIES = ("debtor", "third_party")
_FLAGS = (
    "complaint",
    "dispute",
    "cease",
    "attorney",
    "consent_hours",
    "deceased",
    "third_party_cease",
    "no_valid_number",
)


class InputError(Exception):
    """A malformed input line: file, line number, field and reason."""

    def __init__(self, path: Path, line: int, field: str | None, reason: str) -> None:
        where = f"{path}:{line}" + (f": field {field!r}" if field else "")
        super().__init__(f"{where}: {reason}")
        self.path, self.line, self.field, self.reason = path, line, field, reason


@dataclass
class _Row:
    """One JSON object with its origin, and typed accessors that raise :class:`InputError`."""

    path: Path
    line: int
    obj: dict[str, Any]

    def fail(self, field: str | None, reason: str) -> InputError:
        return InputError(self.path, self.line, field, reason)

    def ident(self, key: str) -> str:
        v = self.obj.get(key)
        if isinstance(v, bool) or not isinstance(v, str | int) or (isinstance(v, str) and not v.strip()):
            raise self.fail(key, f"required, a non-empty string or integer (got {v!r})")
        return str(v)

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        v = self.obj.get(key)
        if v not in allowed:
            raise self.fail(key, f"must be one of {'|'.join(allowed)} (got {v!r})")
        return str(v)

    def opt_str(self, key: str) -> str | None:
        v = self.obj.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, str | int):
            raise self.fail(key, f"must be a string (got {v!r})")
        return str(v)

    def boolean(self, key: str, *, required: bool, default: bool | None = False) -> bool | None:
        if key not in self.obj or self.obj[key] is None:
            if required:
                raise self.fail(key, "required, true or false")
            return default
        v = self.obj[key]
        if not isinstance(v, bool):
            raise self.fail(key, f"must be true or false (got {v!r})")
        return v

    def integer(self, key: str, *, required: bool) -> int | None:
        v = self.obj.get(key)
        if v is None:
            if required:
                raise self.fail(key, "required, a whole number")
            return None
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise self.fail(key, f"must be a whole number >= 0 (got {v!r})")
        return v

    def instant(self, key: str, *, required: bool = True) -> datetime | None:
        v = self.obj.get(key)
        if v is None:
            if required:
                raise self.fail(key, "required, ISO-8601 date-time with a UTC offset")
            return None
        if not isinstance(v, str):
            raise self.fail(key, f"must be an ISO-8601 string (got {v!r})")
        try:
            dt = datetime.fromisoformat(v)
        except ValueError:
            raise self.fail(key, f"not an ISO-8601 date-time (got {v!r})") from None
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise self.fail(key, f"needs a UTC offset such as +08:00 or Z (got {v!r})")
        return dt


def _rows(path: Path) -> Iterator[_Row]:
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(path, 0, None, f"cannot open: {exc.strerror or exc}") from exc
    with fh:
        for n, line in enumerate(fh, start=1):
            text = line.strip()
            if not text:
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(path, n, None, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(obj, dict):
                raise InputError(path, n, None, "each line must be a JSON object")
            yield _Row(path, n, obj)


def read_ledger(path: Path) -> list[LedgerEntry]:
    """Parse a ledger JSONL file into :class:`~fieldcollect.compliance.engine.LedgerEntry` rows."""
    from fieldcollect.compliance.engine import LedgerEntry

    out = []
    for r in _rows(path):
        channel = r.choice("channel", _CHANNELS)
        phone = r.opt_str("phone")
        if channel in {"call", "sms"} and not phone:
            raise r.fail("phone", f"required for a {channel}")
        connected = bool(r.boolean("connected", required=channel == "call"))
        conversation = bool(r.boolean("conversation", required=False))
        if conversation and not connected:
            raise r.fail("conversation", "true needs connected=true")
        at = r.instant("at")
        assert at is not None
        try:
            out.append(
                LedgerEntry(
                    debtor_id=r.ident("debtor_id"),
                    channel=channel,
                    party=r.choice("party", _PARTIES),
                    phone=phone,
                    at=at,
                    connected=connected,
                    conversation=conversation,
                    agency_id=r.opt_str("agency_id"),
                )
            )
        except ValueError as exc:
            raise r.fail(None, str(exc)) from None
    return out


def read_flags(path: Path) -> list[Flag]:
    """Parse a flags JSONL file into :class:`~fieldcollect.compliance.engine.Flag` rows."""
    from fieldcollect.compliance.engine import Flag

    out = []
    for r in _rows(path):
        debtor = r.ident("debtor_id")
        flag = r.choice("flag", _FLAGS)
        phone = r.opt_str("phone")
        if flag == "third_party_cease" and not phone:
            raise r.fail("phone", "required for third_party_cease (the third party's number)")
        start = r.instant("from")
        end = r.instant("to", required=False)
        assert start is not None
        if end is not None and end <= start:
            raise r.fail("to", "must be after 'from'")
        try:
            out.append(Flag(debtor_id=debtor, flag=flag, phone=phone, start=start, end=end))
        except ValueError as exc:
            raise r.fail(None, str(exc)) from None
    return out


def read_requests(path: Path) -> list[tuple[Any, ContactRequest]]:
    """Parse a requests JSONL file: ``(request_id as given, ContactRequest)`` pairs."""
    from fieldcollect.compliance.engine import ContactRequest, zone

    out = []
    for r in _rows(path):
        raw_id = r.obj.get("request_id")
        rid = r.ident("request_id")
        debtor = r.ident("debtor_id")
        tz = r.obj.get("tz")
        if not isinstance(tz, str):
            raise r.fail("tz", f"required, an IANA time zone such as Asia/Shanghai (got {tz!r})")
        try:
            zone(tz)
        except ValueError:
            raise r.fail("tz", f"unknown IANA time zone {tz!r}") from None
        channel = r.choice("channel", _CHANNELS)
        party = r.choice("party", _PARTIES)
        phone = r.opt_str("phone")
        if channel in {"call", "sms"} and not phone:
            raise r.fail("phone", f"required for a {channel}")
        at = r.instant("at")
        visit = channel == "visit"
        collectors = r.integer("collectors", required=visit)
        recording = r.boolean("recording", required=visit, default=None)
        confirmed = r.boolean("appointment_confirmed", required=visit, default=None)
        assert at is not None
        try:
            req = ContactRequest(
                request_id=rid,
                debtor_id=debtor,
                tz=tz,
                channel=channel,
                party=party,
                phone=phone,
                at=at,
                collectors=collectors,
                recording=recording,
                appointment_confirmed=confirmed,
            )
        except ValueError as exc:
            raise r.fail(None, str(exc)) from None
        out.append((raw_id, req))
    return out


def _load_pack(code: str, pack_file: Path | None) -> RulePack:
    from fieldcollect.compliance.packs import PackError, available_packs, load_pack, load_pack_file

    code = code.strip().upper()
    if code not in available_packs():
        raise typer.BadParameter(f"--pack must be one of {'|'.join(available_packs())}, got {code!r}")
    try:
        pack = load_pack_file(pack_file) if pack_file is not None else load_pack(code)
    except PackError as exc:
        _die(str(exc))
    if pack.code != code:
        _die(f"{pack_file}: pack.code is {pack.code!r}, but --pack is {code!r}")
    return pack


def _die(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


PackOpt = Annotated[str, typer.Option("--pack", help="Jurisdiction of the loans: CN, US or IN")]
PackFileOpt = Annotated[
    Path | None, typer.Option("--pack-file", help="A modified pack file to use instead of the shipped one")
]
LedgerOpt = Annotated[Path, typer.Option("--ledger", help="Contact ledger, JSON lines")]
FlagsOpt = Annotated[Path | None, typer.Option("--flags", help="Debtor flags, JSON lines")]


@app.command("check")
def check_cmd(
    pack: PackOpt,
    ledger: LedgerOpt,
    requests: Annotated[Path, typer.Option("--requests", help="Contacts to check, JSON lines")],
    flags: FlagsOpt = None,
    pack_file: PackFileOpt = None,
    explain: Annotated[
        str | None, typer.Option("--explain", help="Add explanations in this language (zh-Hans or en)")
    ] = None,
) -> None:
    """Check each request against the ledger and flags; print one JSON line per request."""
    from fieldcollect.compliance.engine import DebtorHistory, check_history, group_by_debtor

    rules = _load_pack(pack, pack_file)
    try:
        rows = read_ledger(ledger)
        flag_rows = read_flags(flags) if flags is not None else []
        reqs = read_requests(requests)
    except InputError as exc:
        _die(str(exc))
    by_debtor = group_by_debtor(rows)
    flags_by: dict[str, list[Any]] = {}
    for f in flag_rows:
        flags_by.setdefault(f.debtor_id, []).append(f)
    histories: dict[str, DebtorHistory] = {}
    out = sys.stdout
    for raw_id, req in reqs:
        h = histories.get(req.debtor_id)
        if h is None:
            h = DebtorHistory.build(
                debtor_id=req.debtor_id, ledger=by_debtor.get(req.debtor_id, []), flags=flags_by.get(req.debtor_id, [])
            )
            histories[req.debtor_id] = h
        d = check_history(request=req, history=h, pack=rules)
        line: dict[str, Any] = {
            "request_id": raw_id,
            "allowed": d.allowed,
            "rule_ids": list(d.rule_ids),
            "next_allowed_at": d.next_allowed_at.isoformat() if d.next_allowed_at is not None else None,
        }
        if explain:
            line["explanations"] = d.explain(explain)
        out.write(json.dumps(line, ensure_ascii=False) + "\n")


@app.command("audit")
def audit_cmd(
    pack: PackOpt,
    ledger: LedgerOpt,
    flags: FlagsOpt = None,
    blocked: Annotated[
        Path | None,
        typer.Option("--blocked", help="Blocked attempts, JSON lines {agency_id, debtor_id, at, rule_ids}"),
    ] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="Debtors' IANA zone (default: the pack's)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="CSV file to write (default: standard output)")] = None,
    pack_file: PackFileOpt = None,
) -> None:
    """Daily compliance report per agency: breaches, blocked attempts by rule, near misses, patterns."""
    from fieldcollect.compliance.audit import BlockedAttempt, audit_ledger, report_csv

    rules = _load_pack(pack, pack_file)
    try:
        rows = read_ledger(ledger)
        flag_rows = read_flags(flags) if flags is not None else []
        blocked_rows: list[BlockedAttempt] = []
        if blocked is not None:
            for r in _rows(blocked):
                at = r.instant("at")
                ids = r.obj.get("rule_ids")
                if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
                    raise r.fail("rule_ids", "must be a non-empty list of rule ids")
                assert at is not None
                blocked_rows.append(
                    BlockedAttempt(
                        agency_id=r.opt_str("agency_id"), debtor_id=r.ident("debtor_id"), at=at, rule_ids=tuple(ids)
                    )
                )
    except InputError as exc:
        _die(str(exc))
    zone_name = tz or rules.default_tz
    try:
        from fieldcollect.compliance.engine import zone

        zone(zone_name)
    except ValueError:
        _die(f"--tz: unknown IANA time zone {zone_name!r}")
    report = audit_ledger(ledger=rows, flags=flag_rows, blocked=blocked_rows, pack=rules, tz_of=lambda _d: zone_name)
    text = report_csv(report)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out} ({len(report.days)} agency-days, {len(report.findings)} findings)")


@app.command("pack")
def pack_cmd(
    pack: PackOpt,
    pack_file: PackFileOpt = None,
    lang: Annotated[str, typer.Option("--lang", help="zh-Hans or en")] = "en",
) -> None:
    """Show a rule pack: version, effective date and every rule with its numbers and source."""
    from rich.console import Console
    from rich.table import Table

    rules = _load_pack(pack, pack_file)
    key = "zh-Hans" if lang.lower().startswith("zh") else "en"
    table = Table(title=f"{rules.name[key]} — {rules.code} {rules.version}, effective {rules.effective_from}")
    for col in ("id", "kind", "mark", "explanation", "source"):
        table.add_column(col, overflow="fold")
    for r in rules.rules:
        table.add_row(r.id + ("" if r.enabled else " (off)"), r.kind, r.mark, r.explain(key), r.source)
    Console().print(table)
