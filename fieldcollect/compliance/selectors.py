"""Reads of the compliance app: a debtor's contact ledger and flags as engine rows, the flags of a
customer for the page, and the data of the daily audit report.

The contact ledger is :class:`fieldcollect.cases.models.ContactAttempt` across every case of the
debtor (customer), the bank and every agency. Each read below is one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from fieldcollect.cases.models import Case, ContactAttempt
from fieldcollect.compliance import audit as audit_lib
from fieldcollect.compliance.engine import Flag, LedgerEntry, zone
from fieldcollect.compliance.models import BlockedAttempt, DebtorFlag, OutsourcingNotice
from fieldcollect.compliance.packs import RulePack, available_packs, pack_in_force, pack_versions
from fieldcollect.core.bank_time import bank_time_zone_name, bank_today
from fieldcollect.core.models import User
from fieldcollect.core.rawsql import RowBuilder, adapt, column, fields_of, select_list, table
from fieldcollect.portfolio.models import Loan
from fieldcollect.privacy.fields import open_value

# case-management channels -> engine channels (a WeChat message counts as a text message)
ENGINE_CHANNEL = {"phone": "call", "call": "call", "sms": "sms", "wechat": "sms", "visit": "visit",
                  "letter": "letter", "email": "email"}
# lookback of the ledger for a check: longer than any count window of the shipped packs, and the
# consecutive-failure rule looks only this far back (an older failure does not count: the safe side)
MIN_LOOKBACK = timedelta(days=35)


@lru_cache(maxsize=8)
def versions_of(jurisdiction: str) -> tuple[RulePack, ...]:
    """Every version of the rule pack of a loan's jurisdiction, oldest first (cached per process; CN
    when empty): :func:`fieldcollect.compliance.packs.pack_versions`."""
    return pack_versions(jurisdiction or "CN")


def pack_for(jurisdiction: str, on: date | None = None) -> RulePack:
    """The rule pack of a loan's jurisdiction in force on ``on`` (its ``effective_from``; the bank's
    today when not given): a contact is judged by the version in force on its own date (the debtor's
    local date; callers pass it)."""
    return pack_in_force(versions_of(jurisdiction), on=on or bank_today())


THIRD_PARTY_RULE_KINDS = frozenset({"third_party_lost_contact", "third_party_cease"})


def third_party_may_discuss_debt(pack: RulePack) -> bool:
    """Whether a collector may talk about the debt with a third party (a family member, a neighbour)
    met at the door: not under a pack with a third-party rule in force (CN: third parties are
    contacted only when the debtor is unreachable, and the debt is never disclosed to them)."""
    return not any(r.kind in THIRD_PARTY_RULE_KINDS for r in pack.active_rules)


def engine_channel(channel: str) -> str:
    return ENGINE_CHANNEL.get(channel, "call")


def engine_party(party: str) -> str:
    """The debtor is ``debtor``; spouse, relatives, employer, guarantor and others are third parties."""
    return "debtor" if party == "debtor" else "third_party"


def lookback(pack: RulePack) -> timedelta:
    longest = max((r.window_days for r in pack.active_rules if r.kind == "count_cap"), default=1)
    return max(MIN_LOOKBACK, timedelta(days=longest + 3))


def _entry(debtor_id: str, channel: str, party: str, at: datetime, number: str, connected: bool,
           conversation: bool, agency_id: int | None) -> LedgerEntry:
    return LedgerEntry(
        debtor_id=debtor_id, channel=engine_channel(channel), party=engine_party(party), at=at,
        phone=number or None, connected=connected or conversation, conversation=conversation,
        agency_id=str(agency_id) if agency_id is not None else None,
    )


@lru_cache(maxsize=1)
def _ledger_sql() -> str:
    a, c = ContactAttempt, Case
    picked = ", ".join(column(a, n, "a") for n in ("channel", "party", "at", "number", "connected", "conversation",
                                                    "agency", "row_binding"))
    return (f"SELECT {picked} FROM {table(a)} a JOIN {table(c)} c ON {column(c, 'pk', 'c')} = {column(a, 'case', 'a')} "
            f"WHERE {column(c, 'customer', 'c')} = %s")


def debtor_ledger(*, customer_id: int, since: datetime | None = None, until: datetime | None = None,
                  numbers_since: datetime | None = None, numbers_until: datetime | None = None) -> list[LedgerEntry]:
    """The debtor's contact attempts (all cases, bank and all agencies) as engine rows: one query
    (written out: every contact runs it, see :mod:`fieldcollect.core.rawsql`).

    ``since``/``until`` bound the attempts read (``until`` exclusive). The numbers are stored
    encrypted; only the rows from ``numbers_since`` up to ``numbers_until`` are decrypted (the others
    get no phone: only per-number rules, with short windows, compare numbers).
    """
    sql = _ledger_sql()
    params: list[Any] = [customer_id]
    if since is not None:
        sql += f" AND {column(ContactAttempt, 'at', 'a')} >= %s"
        params.append(since)
    if until is not None:
        sql += f" AND {column(ContactAttempt, 'at', 'a')} < %s"
        params.append(until)
    debtor_id = str(customer_id)
    field = ContactAttempt._meta.get_field("number")
    decrypt = getattr(field, "from_db_value", None)
    at_converters = connection.ops.get_db_converters(ContactAttempt._meta.get_field("at").get_col("a"))
    with connection.cursor() as cursor:
        cursor.execute(sql, adapt(params))
        rows = cursor.fetchall()
    out = []
    for channel, party, at, raw, connected, conversation, agency_id, row in rows:
        for conv in at_converters:  # SQLite gives text; PostgreSQL an aware datetime already
            at = conv(at, None, connection)
        if (numbers_since is not None and at < numbers_since) or (numbers_until is not None and at >= numbers_until):
            number = ""
        else:
            number = decrypt(raw, None, connection) if decrypt is not None and raw else (raw or "")
            number = open_value(ContactAttempt, "number", number, row)  # bound to its row
        out.append(_entry(debtor_id, channel, party, at, number, bool(connected), bool(conversation), agency_id))
    return out


def phone_lookback(pack: RulePack) -> timedelta:
    """How far back ledger numbers matter: the longest per-number count window, plus a margin for
    time zones (local days)."""
    longest = max((r.window_days for r in pack.active_rules if r.kind == "count_cap" and r.scope == "phone"),
                  default=0)
    return timedelta(days=longest + 2)


@lru_cache(maxsize=1)
def _flags_query() -> tuple[str, RowBuilder]:
    fields = fields_of(DebtorFlag, ["customer", "flag", "starts_at", "ends_at", "phone", "lifted_at", "row_binding"])

    def f(name: str) -> str:
        return column(DebtorFlag, name, "f")

    # a flag lifted at or before its start never applied
    sql = (f'SELECT {select_list(fields, "f")} FROM {table(DebtorFlag)} f '
           f'WHERE {f("customer")} IN ({{ids}}) '
           f'AND NOT ({f("lifted_at")} IS NOT NULL AND {f("lifted_at")} <= {f("starts_at")})')
    return sql, RowBuilder(DebtorFlag, fields)


def debtor_flags(*, customer_ids: Iterable[int], since: datetime | None = None) -> list[Flag]:
    """The flags of the debtors as engine rows (ended before ``since`` left out): one query (written
    out: every contact runs it, see :mod:`fieldcollect.core.rawsql`)."""
    ids = [int(i) for i in customer_ids]
    if not ids:
        return []
    sql, flags = _flags_query()
    sql = sql.format(ids=", ".join(["%s"] * len(ids)))
    params: list[Any] = list(ids)
    if since is not None:
        ends = column(DebtorFlag, "ends_at", "f")
        sql += f" AND ({ends} IS NULL OR {ends} > %s)"
        params.append(since)
    with connection.cursor() as cursor:
        cursor.execute(sql, adapt(params))
        rows = [flags.build(row) for row in cursor.fetchall()]
    return [Flag(debtor_id=str(f.customer_id), flag=f.flag, start=f.starts_at, end=f.ends_at, phone=f.phone or None)
            for f in rows]


def customer_flags(*, customer_id: int) -> list[DebtorFlag]:
    """Every flag of a customer for the flags page, newest first, with their authors."""
    return list(DebtorFlag.objects.filter(customer_id=customer_id)
                .select_related("created_by", "lifted_by").order_by("-starts_at", "-id"))


def can_view_case_flags(user: User) -> bool:
    """Whether ``user`` may see the debtor flags and refused contacts of a case they can see: the bank's
    roles and the agency's people (the case itself is checked by ``access_case_by_id``)."""
    return user.is_authenticated and (user.is_bank_user or user.is_agency_user)


def blocked_attempts_of_case(*, case_id: int, user: User | None = None) -> QuerySet[BlockedAttempt]:
    """The contacts refused on a case; for an agency ``user``, only its own agency's (not another
    agency's refused contacts)."""
    qs = BlockedAttempt.objects.filter(case_id=case_id)
    if user is not None and user.is_agency_user:
        qs = qs.filter(agency_id=user.agency_id) if user.agency_id is not None else qs.none()
    return qs


def blocked_attempts_for_case(*, case_id: int, limit: int = 50, user: User | None = None) -> list[BlockedAttempt]:
    """:func:`blocked_attempts_of_case`, newest first, with who tried."""
    return list(blocked_attempts_of_case(case_id=case_id, user=user).select_related("user")
                .order_by("-at", "-id")[:limit])


# ---------------------------------------------------------------- daily report

@dataclass(frozen=True)
class DailyReport:
    """The audit of one local day (debtors' local days), for one agency or all."""

    day: date
    agency_id: str | None
    reports: tuple[audit_lib.AuditReport, ...]  # one per pack in use
    blocked: tuple[BlockedAttempt, ...]

    @property
    def days(self) -> list[audit_lib.AgencyDay]:
        out = [d for r in self.reports for d in r.days
               if d.day == self.day and (self.agency_id is None or d.agency_id == self.agency_id)]
        return sorted(out, key=lambda d: d.agency_id)

    @property
    def findings(self) -> list[audit_lib.Finding]:
        return [f for r in self.reports for f in r.findings
                if f.day == self.day and (self.agency_id is None or f.agency_id == self.agency_id)]

    @property
    def blocked_by_rule(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for d in self.days:
            for rid, n in d.blocked_by_rule.items():
                out[rid] = out.get(rid, 0) + n
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    def csv(self) -> str:
        """The report as CSV (the columns of :func:`fieldcollect.compliance.audit.report_csv`)."""
        head = ",".join(audit_lib.CSV_COLUMNS) + "\r\n"
        body = []
        for r in self.reports:
            days = tuple(d for d in self.days if d in r.days)
            text = audit_lib.report_csv(audit_lib.AuditReport(pack=r.pack, days=days, findings=r.findings))
            body.extend(text.splitlines(keepends=True)[1:])
        return head + "".join(body)


def daily_report(*, day: date, agency_id: int | None = None) -> DailyReport:
    """Audit ``day`` (each debtor's local day) for one agency or all: six queries whatever the size
    (seven when refusals without a case, such as early-warning reminders, are among them); an agency's
    contact before its notice before outsourcing is a breach (the notices sent are read).

    The debtors are those the agency (or anyone) contacted or tried to contact around that day; their
    whole ledger over the longest count window before it is replayed, across all agencies, so a cap
    that another agency's calls used up counts.
    """
    # UTC range wide enough to hold the local day of any zone
    lo = datetime.combine(day, time(0, 0), tzinfo=zone("UTC")) - timedelta(hours=16)
    hi = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone("UTC")) + timedelta(hours=16)
    touched = ContactAttempt.objects.filter(at__gte=lo, at__lt=hi)
    blocked_qs = BlockedAttempt.objects.filter(at__gte=lo, at__lt=hi)
    if agency_id is not None:
        touched = touched.filter(agency_id=agency_id)
        blocked_qs = blocked_qs.filter(agency_id=agency_id)
    blocked = list(blocked_qs.select_related("case", "case__loan", "customer", "user").order_by("at", "id"))
    customer_ids = set(touched.order_by().values_list("case__customer_id", flat=True).distinct())
    customer_ids |= {b.customer_id for b in blocked if b.customer_id is not None}
    since = lo - timedelta(days=40)
    rows = list(
        ContactAttempt.objects.filter(case__customer_id__in=customer_ids, at__gte=since, at__lt=hi).order_by()
        .values_list("case__customer_id", "case__customer__timezone", "case__loan__jurisdiction", "channel",
                     "party", "at", "number", "connected", "conversation", "agency_id", "row_binding")
    )
    flags = debtor_flags(customer_ids=customer_ids, since=since)
    default_tz = bank_time_zone_name()
    tz_of: dict[str, str] = {}
    ledger_by_pack: dict[str, list[LedgerEntry]] = {}
    for cid, tz, jur, channel, party, at, sealed, connected, conversation, agency, row in rows:
        number = open_value(ContactAttempt, "number", sealed, row)
        tz_of[str(cid)] = tz or default_tz
        ledger_by_pack.setdefault(jur or "CN", []).append(
            _entry(str(cid), channel, party, at, number, connected, conversation, agency))
    blocked_by_pack: dict[str, list[audit_lib.BlockedAttempt]] = {}
    # refusals without a case (e.g. early-warning reminders): the pack of the customer's loan
    caseless = {b.customer_id for b in blocked if b.case is None and b.customer_id is not None}
    jur_of_customer = dict(Loan.objects.filter(customer_id__in=caseless).order_by("customer_id", "loan_id")
                           .values_list("customer_id", "jurisdiction")) if caseless else {}
    for b in blocked:
        if b.customer_id is None:
            continue
        tz_of.setdefault(str(b.customer_id), (b.customer.timezone if b.customer else "") or default_tz)
        jur = b.case.loan.jurisdiction if b.case is not None else jur_of_customer.get(b.customer_id, "CN")
        blocked_by_pack.setdefault(jur or "CN", []).append(audit_lib.BlockedAttempt(
            agency_id=str(b.agency_id) if b.agency_id is not None else None, debtor_id=str(b.customer_id),
            at=b.at, rule_ids=tuple(b.rule_ids)))
    notices = notices_sent(customer_ids=customer_ids)
    reports = []
    for jur in sorted(set(ledger_by_pack) | set(blocked_by_pack)):
        reports.append(audit_lib.audit_ledger(
            ledger=ledger_by_pack.get(jur, []), flags=flags, blocked=blocked_by_pack.get(jur, []),
            pack=pack_for(jur, on=day), tz_of=lambda d: tz_of.get(d, default_tz), notices=notices))
    day_blocked = tuple(b for b in blocked
                        if b.at.astimezone(zone(tz_of.get(str(b.customer_id), default_tz))).date() == day)
    return DailyReport(day=day, agency_id=str(agency_id) if agency_id is not None else None,
                       reports=tuple(reports), blocked=day_blocked)


LEDGER_CHUNK = 5_000  # customers per query (PostgreSQL takes at most 65,535 parameters)


def notices_sent(*, customer_ids: Iterable[int]) -> dict[tuple[str, str], datetime]:
    """When each of these debtors was first sent the notice before outsourcing naming each agency, as the
    replay reads them (:data:`fieldcollect.compliance.audit.Notices`): ``(customer id, agency id) -> sent
    at``; a pair not sent is missing. One query per :data:`LEDGER_CHUNK` debtors."""
    ids = sorted({int(i) for i in customer_ids})
    out: dict[tuple[str, str], datetime] = {}
    for k in range(0, len(ids), LEDGER_CHUNK):
        rows = (OutsourcingNotice.objects.filter(customer_id__in=ids[k:k + LEDGER_CHUNK], message__status="sent",
                                                 message__sent_at__isnull=False)
                .order_by().values_list("customer_id", "agency_id", "message__sent_at"))
        for customer, agency, sent in rows:
            key = (str(customer), str(agency))
            if sent is not None and (key not in out or sent < out[key]):
                out[key] = sent
    return out


def ledgers_of(*, customer_ids: Iterable[int], since: datetime, until: datetime) -> dict[str, list[LedgerEntry]]:
    """The contact ledgers (all cases, bank and every agency) of many debtors as engine rows, per debtor
    id, attempts in ``[since, until)``: one query per :data:`LEDGER_CHUNK` debtors (batch checks)."""
    ids = sorted({int(i) for i in customer_ids})
    out: dict[str, list[LedgerEntry]] = {}
    for k in range(0, len(ids), LEDGER_CHUNK):
        rows = (ContactAttempt.objects.filter(case__customer_id__in=ids[k:k + LEDGER_CHUNK], at__gte=since,
                                              at__lt=until).order_by()
                .values_list("case__customer_id", "channel", "party", "at", "number", "connected", "conversation",
                             "agency_id", "row_binding"))
        for cid, channel, party, at, sealed, connected, conversation, agency, row in rows:
            number = open_value(ContactAttempt, "number", sealed, row) if sealed else ""
            out.setdefault(str(cid), []).append(
                _entry(str(cid), channel, party, at, number, connected, conversation, agency))
    return out


def flags_of(*, customer_ids: Iterable[int], since: datetime | None = None) -> dict[str, list[Flag]]:
    """:func:`debtor_flags` of many debtors, per debtor id (one query per :data:`LEDGER_CHUNK`)."""
    ids = sorted({int(i) for i in customer_ids})
    out: dict[str, list[Flag]] = {}
    for k in range(0, len(ids), LEDGER_CHUNK):
        for f in debtor_flags(customer_ids=ids[k:k + LEDGER_CHUNK], since=since):
            out.setdefault(f.debtor_id, []).append(f)
    return out


@dataclass(frozen=True)
class PackVersionView:
    """One version of a rule pack for the read-only page: its rules and whether it is in force today."""

    pack: RulePack
    in_force: bool
    superseded: bool
    future: bool


def rule_pack_catalogue(*, on: date | None = None) -> list[tuple[str, list[PackVersionView]]]:
    """Every shipped pack with all its versions (newest first), the one in force on ``on`` (the bank's
    today) marked: what the rule packs page shows."""
    day = on or bank_today()
    out = []
    for code in available_packs():
        versions = versions_of(code)
        current = pack_in_force(versions, on=day)
        views = [PackVersionView(pack=p, in_force=p is current, future=p.effective_from > day,
                                 superseded=p is not current and p.effective_from <= day) for p in versions]
        out.append((code, list(reversed(views))))
    return out
