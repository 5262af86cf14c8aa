"""Reads on cases: filtered, keyset-paged lists that stay bounded at 500,000 cases, the case
timeline, and loan history (schedule and payments)."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from fieldcollect.agencies.selectors import contract_terms
from fieldcollect.cases.access import cases_visible_to, collector_of, tasks_visible_to, visible_case_condition
from fieldcollect.cases.models import Case, Payment, Task
from fieldcollect.core.models import User
from fieldcollect.core.params import ID_MAX
from fieldcollect.core.rawsql import RowBuilder, column, fields_of, select_list, table
from fieldcollect.portfolio.store import loan_history as store_loan_history
from fieldcollect.privacy.masking import mask_field, mask_name
from fieldcollect.visits.models import Appointment, Team

MAX_PAGE = 200
COUNT_CAP = 1_000


@dataclass(frozen=True)
class CaseFilters:
    """What the case list can be narrowed by. Amounts are in fen."""

    bucket: str = ""
    status: str = ""
    city: str = ""
    agency_id: int | None = None
    collector_id: int | None = None
    dpd_min: int | None = None
    dpd_max: int | None = None
    overdue_min_fen: int | None = None
    overdue_max_fen: int | None = None
    include_closed: bool = False
    unassigned: bool = False

    def apply(self, qs: QuerySet[Case]) -> QuerySet[Case]:
        if self.bucket:
            qs = qs.filter(bucket=self.bucket)
        if self.status:
            qs = qs.filter(status=self.status)
        elif not self.include_closed:
            qs = qs.filter(closed_on__isnull=True)
        if self.city:
            qs = qs.filter(city=self.city)
        if self.agency_id is not None:
            qs = qs.filter(agency_id=self.agency_id)
        if self.collector_id is not None:
            qs = qs.filter(collector_id=self.collector_id)
        elif self.unassigned:
            qs = qs.filter(collector__isnull=True)
        if self.dpd_min is not None:
            qs = qs.filter(dpd__gte=self.dpd_min)
        if self.dpd_max is not None:
            qs = qs.filter(dpd__lte=self.dpd_max)
        if self.overdue_min_fen is not None:
            qs = qs.filter(overdue_fen__gte=self.overdue_min_fen)
        if self.overdue_max_fen is not None:
            qs = qs.filter(overdue_fen__lte=self.overdue_max_fen)
        return qs

    def sql(self, alias: str) -> tuple[str, list[Any]]:
        """:meth:`apply` as an SQL condition on the case table aliased ``alias`` (the API's list page is
        written out, :func:`case_list`); a test holds the two to the same rows."""
        parts: list[str] = []
        params: list[Any] = []

        def add(name: str, op: str, *values: Any) -> None:
            parts.append(f"{column(Case, name, alias)} {op}")
            params.extend(values)

        if self.bucket:
            add("bucket", "= %s", self.bucket)
        if self.status:
            add("status", "= %s", self.status)
        elif not self.include_closed:
            add("closed_on", "IS NULL")
        if self.city:
            add("city", "= %s", self.city)
        if self.agency_id is not None:
            add("agency_id", "= %s", self.agency_id)
        if self.collector_id is not None:
            add("collector_id", "= %s", self.collector_id)
        elif self.unassigned:
            add("collector_id", "IS NULL")
        for name, op, value in (("dpd", ">=", self.dpd_min), ("dpd", "<=", self.dpd_max),
                                ("overdue_fen", ">=", self.overdue_min_fen),
                                ("overdue_fen", "<=", self.overdue_max_fen)):
            if value is not None:
                add(name, f"{op} %s", value)
        return " AND ".join(parts) or "TRUE", params


@dataclass(frozen=True)
class CasePage:
    items: list[Case]
    next_cursor: str | None
    count: int | None = None
    count_capped: bool = False


def encode_cursor(*, dpd: int, case_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([dpd, case_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[int, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        dpd, case_id = json.loads(raw)
        key = int(dpd), int(case_id)
    except (ValueError, TypeError, OverflowError):
        return None
    return key if all(-ID_MAX <= k <= ID_MAX for k in key) else None


def case_queryset(*, user: User, filters: CaseFilters, today: date | None = None) -> QuerySet[Case]:
    """The user's visible cases narrowed by ``filters``, in list order (most days past due first)."""
    return filters.apply(cases_visible_to(user, today=today)).order_by("-dpd", "id")


def case_list(*, user: User, filters: CaseFilters, cursor: str | None = None, limit: int = 50,
              offset: int | None = None, with_count: bool = False, count_cap: int | None = COUNT_CAP,
              today: date | None = None,
              related: tuple[str, ...] = ("customer", "agency", "collector")) -> CasePage:
    """One page of cases, keyset-paged on (dpd desc, id) so page 1,000 costs what page 1 costs.

    ``offset`` (for API clients that page by number) is honoured only when no cursor is given.
    ``with_count`` adds the number of matching cases, counted up to ``count_cap`` + 1 so that the count
    stays bounded on a huge book (``count_capped`` tells the count stopped there).
    The page costs 2 queries (3 with the count), whatever its size. ``related`` names the rows read
    with each case (the API's list needs none: no customer decrypted for nothing); without any, the
    page and its count are one statement written out (:func:`_case_list_written_out`: the API lists
    on every call, and compiling the ORM query cost more than running it).
    """
    limit = max(1, min(limit, MAX_PAGE))
    if not related:
        return _case_list_written_out(user=user, filters=filters, key=decode_cursor(cursor), limit=limit,
                                      offset=offset, with_count=with_count, count_cap=count_cap, today=today)
    base = case_queryset(user=user, filters=filters, today=today)
    qs = base.select_related(*related) if related else base
    key = decode_cursor(cursor)
    if key is not None:
        dpd, case_id = key
        # the redundant dpd <= bound lets the (…, -dpd, id) indexes seek straight to the page
        qs = qs.filter(dpd__lte=dpd).filter(Q(dpd__lt=dpd) | Q(dpd=dpd, id__gt=case_id))
    elif offset:
        qs = qs[offset:]
    rows = list(qs[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(dpd=rows[-1].dpd, case_id=rows[-1].pk)
    count: int | None = None
    capped = False
    if with_count:
        if count_cap is None:
            count = base.order_by().count()
        else:
            count = base.order_by().values("pk")[: count_cap + 1].count()
            capped = count > count_cap
            count = min(count, count_cap)
    label_case_rows(user=user, cases=rows)
    return CasePage(items=rows, next_cursor=next_cursor, count=count, count_capped=capped)


@functools.cache
def _case_page_sql() -> tuple[str, RowBuilder]:
    fields = fields_of(Case)
    return (f'SELECT {select_list(fields, "c")}, {{count}} FROM {table(Case)} c '
            f'WHERE ({{visible}}) AND ({{filters}}){{cursor}} ORDER BY {column(Case, "dpd", "c")} DESC, '
            f'{column(Case, "pk", "c")} LIMIT %s OFFSET %s', RowBuilder(Case, fields))


def _case_list_written_out(*, user: User, filters: CaseFilters, key: tuple[int, int] | None, limit: int,
                           offset: int | None, with_count: bool, count_cap: int | None,
                           today: date | None) -> CasePage:
    """:func:`case_list` without related rows, as one statement: the page (keyset or offset) with the
    count of the whole selection as a scalar subquery. Same rows, order and count as the ORM path
    (``test_written_out_case_list_matches_the_orm``)."""
    visible = visible_case_condition(user, alias="c", today=today)
    if visible is None:
        return CasePage(items=[], next_cursor=None, count=0 if with_count else None)
    template, cases = _case_page_sql()
    where, where_params = filters.sql("c")
    count_params: list[Any] = []
    count_sql = "NULL"
    if with_count:
        inner_visible, inner_params = visible_case_condition(user, alias="k", today=today) or ("FALSE", [])
        inner_filters, inner_filter_params = filters.sql("k")
        inner = f"SELECT 1 FROM {table(Case)} k WHERE ({inner_visible}) AND ({inner_filters})"
        if count_cap is not None:
            inner += " LIMIT %s"
        count_sql = f"(SELECT COUNT(*) FROM ({inner}) n)"
        count_params = [*inner_params, *inner_filter_params] + ([count_cap + 1] if count_cap is not None else [])
    cursor_sql = ""
    cursor_params: list[Any] = []
    if key is not None:
        # the redundant dpd <= bound lets the (…, -dpd, id) indexes seek straight to the page
        dpd, pk = column(Case, "dpd", "c"), column(Case, "pk", "c")
        cursor_sql = f" AND {dpd} <= %s AND ({dpd} < %s OR ({dpd} = %s AND {pk} > %s))"
        cursor_params = [key[0], key[0], key[0], key[1]]
    sql = template.format(count=count_sql, visible=visible[0], filters=where, cursor=cursor_sql)
    params = [*count_params, *visible[1], *where_params, *cursor_params, limit + 1,
              0 if key is not None else (offset or 0)]
    with connection.cursor() as db:
        db.execute(sql, params)
        rows = db.fetchall()
    count: int | None = None
    if with_count:
        if rows:
            count = int(rows[0][-1])
        else:  # an empty page past the end: count on its own
            with connection.cursor() as db:
                db.execute(f"SELECT {count_sql}", count_params)
                count = int(db.fetchone()[0])
    items = [cases.build(row) for row in rows[:limit]]
    next_cursor = encode_cursor(dpd=items[-1].dpd, case_id=items[-1].pk) if len(rows) > limit else None
    capped = False
    if count is not None and count_cap is not None:
        capped = count > count_cap
        count = min(count, count_cap)
    label_case_rows(user=user, cases=items)
    return CasePage(items=items, next_cursor=next_cursor, count=count, count_capped=capped)


# ---------------------------------------------------------------- loan history (schedule, payments)

@dataclass(frozen=True)
class LoanHistory:
    """A loan's instalment schedule and payments, each a list of plain dicts (money in fen)."""

    installments: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    source: str = "database"


LoanHistoryReader = Callable[[int], LoanHistory | dict[str, list[dict[str, Any]]] | None]
_loan_history_reader: LoanHistoryReader | None = None


def set_loan_history_reader(reader: LoanHistoryReader | None) -> None:
    """HOOK for the columnar store: register ``reader(loan_id)`` returning the loan's instalments
    and payments (a :class:`LoanHistory` or ``{"installments": [...], "payments": [...]}``).
    Until one is registered the columnar store's reader (``portfolio/store.py``) is asked; when the
    reader returns ``None`` (no store yet) the DB ``Payment`` rows are shown."""
    global _loan_history_reader
    _loan_history_reader = reader


def _default_reader() -> LoanHistoryReader | None:
    if _loan_history_reader is not None:
        return _loan_history_reader
    return store_loan_history  # the columnar store's reader


def loan_history(*, loan_id: int) -> LoanHistory:
    reader = _default_reader()
    if reader is not None:
        try:
            got = reader(loan_id)
        except Exception:  # the store may be missing (no nightly cycle yet): fall back to the DB
            got = None
        if isinstance(got, LoanHistory):
            return got
        if isinstance(got, dict):
            return LoanHistory(installments=list(got.get("installments", [])),
                               payments=list(got.get("payments", [])), source="store")
    payments = [
        {"paid_on": p.paid_on, "amount_fen": p.amount_fen, "channel": p.channel, "reference": p.reference}
        for p in Payment.objects.filter(loan_id=loan_id).order_by("paid_on", "id")
    ]
    return LoanHistory(installments=[], payments=payments, source="database")


# ---------------------------------------------------------------- timeline

@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    kind: str
    obj: Any


def _as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime(value.year, value.month, value.day))


def case_timeline(*, case: Case) -> list[TimelineEvent]:
    """Everything that happened on a case, newest first (a fixed number of queries)."""
    events: list[TimelineEvent] = [TimelineEvent(_as_datetime(case.opened_on), "opened", case)]
    for p in case.placements.select_related("agency"):
        events.append(TimelineEvent(_as_datetime(p.starts_on), "placement", p))
        if p.recalled_on:
            events.append(TimelineEvent(_as_datetime(p.recalled_on), "recall", p))
    for a in case.assignments.select_related("collector", "assigned_by"):
        events.append(TimelineEvent(a.assigned_at, "assignment", a))
    for c in case.contacts.select_related("recorded_by", "collector"):
        events.append(TimelineEvent(c.at, "contact", c))
    for pr in case.promises.select_related("recorded_by"):
        events.append(TimelineEvent(pr.created_at, "promise", pr))
    for n in case.notes.select_related("author"):
        events.append(TimelineEvent(n.created_at, "note", n))
    for pay in case.payments.all():
        events.append(TimelineEvent(_as_datetime(pay.paid_on), "payment", pay))
    for t in case.tasks.filter(status=Task.Status.DONE).select_related("completed_by"):
        if t.completed_at:
            events.append(TimelineEvent(t.completed_at, "task_done", t))
    if case.closed_on:
        events.append(TimelineEvent(_as_datetime(case.closed_on), "closed", case))
    events.sort(key=lambda e: e.at, reverse=True)
    return events


def open_tasks_for_case(*, case: Case) -> QuerySet[Task]:
    return case.tasks.filter(status=Task.Status.OPEN).select_related("assignee").order_by("due_on", "id")


def task_list(*, user: User, status: str = Task.Status.OPEN, limit: int = 200) -> list[Task]:
    qs = tasks_visible_to(user).select_related("case", "assignee")
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("due_on", "id")[:limit])


def distinct_cities(*, limit: int = 500) -> list[str]:
    """Cities that have cases, for the filter drop-down: a loose index scan (one index seek per
    city, on SQLite and PostgreSQL alike) instead of a DISTINCT over every case."""
    cases, city = table(Case), column(Case, "city")
    sql = (
        "WITH RECURSIVE c(city) AS ("
        f" SELECT MIN({city}) FROM {cases}"
        " UNION ALL"
        f" SELECT (SELECT MIN({column(Case, 'city', 'k')}) FROM {cases} k WHERE {column(Case, 'city', 'k')} > c.city)"
        " FROM c WHERE c.city IS NOT NULL"
        ") SELECT city FROM c WHERE city IS NOT NULL AND city <> '' LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]


# ---------------------------------------------------------------- customer data: contract, masking

CUSTOMER_FIELDS = ("name", "mobile", "id_number", "province", "city", "district", "address")
PII_FIELDS = frozenset({"name", "mobile", "id_number", "address"})
# the contract field (AgencyContract.permitted_fields) that gates each customer or case column
FIELD_GATES = {"name": "name", "mobile": "mobile", "id_number": "id_number", "province": "city", "city": "city",
               "district": "district", "address": "address", "dpd": "dpd", "max_dpd": "dpd", "bucket": "bucket",
               "overdue_fen": "overdue", "outstanding_principal_fen": "overdue"}
CASE_GATED = ("city", "dpd", "max_dpd", "bucket", "overdue_fen", "outstanding_principal_fen")
# what a collector sees in clear around a confirmed visit (never the ID number)
VISIT_FIELDS = frozenset({"name", "mobile", "address"})
VISIT_MARGIN = timedelta(days=1)


def permitted_fields_of(user: User, *, on: date | None = None) -> tuple[str, ...] | None:
    """The contract fields an agency user may receive (``None``: a bank user, unrestricted). An
    agency without a contract in force receives nothing."""
    if user.is_bank_user:
        return None
    agency = getattr(user, "agency", None)
    if agency is None:
        return ()
    day = on or timezone.localdate()
    # remembered on the user object, which lives for one request: a page or API call asks several times
    memo: dict[date, tuple[str, ...]] = user.__dict__.setdefault("_fc_permitted_fields", {})
    if day not in memo:
        terms = contract_terms(agency=agency, on=day)
        memo[day] = terms.permitted_fields if terms is not None else ()
    return memo[day]


def hidden_case_fields(user: User, *, permitted: Any = ...) -> frozenset[str]:
    """Case columns the user's contract does not permit (shown as nothing)."""
    if permitted is ...:
        permitted = permitted_fields_of(user)
    if permitted is None:
        return frozenset()
    return frozenset(c for c in CASE_GATED if FIELD_GATES[c] not in permitted)


def visit_window(*, user: User, case: Case, now: datetime | None = None) -> tuple[datetime, datetime] | None:
    """For a field collector with a confirmed visit appointment to the case's customer: the period
    from one day before to one day after the appointment, when ``now`` falls in it.

    Visits are made by teams of two: the collector's team mate on the day of the appointment (a
    ``visits.Team`` with both of them on that date) has the same window as the collector named on it."""
    collector_id = collector_of(user)
    if collector_id is None:
        return None
    now = now or timezone.now()
    earliest = now - timedelta(days=30)
    # team mates by day: (date, the other member) for the teams this collector is in around now
    mates: set[tuple[date, int]] = set()
    for a_id, b_id, day in Team.objects.filter(
            Q(member_a_id=collector_id) | Q(member_b_id=collector_id),
            date__gte=timezone.localdate(earliest) - timedelta(days=1),
            date__lte=timezone.localdate(now + VISIT_MARGIN) + timedelta(days=1)).values_list(
            "member_a_id", "member_b_id", "date"):
        mates.add((day, b_id if a_id == collector_id else a_id))
    appointments = Appointment.objects.filter(
        collector_id__in={collector_id} | {m for _, m in mates}, status=Appointment.Status.CONFIRMED,
        case__customer_id=case.customer_id,
        chosen_start__isnull=False, chosen_start__lte=now + VISIT_MARGIN, chosen_start__gte=earliest,
    ).order_by("chosen_start")
    for a in appointments:
        assert a.chosen_start is not None
        if a.collector_id != collector_id and (timezone.localdate(a.chosen_start), a.collector_id) not in mates:
            continue  # the other collector's appointment on a day they were not in a team with this one
        start, end = a.chosen_start - VISIT_MARGIN, (a.chosen_end or a.chosen_start) + VISIT_MARGIN
        if start <= now <= end:
            return start, end
    return None


@dataclass(frozen=True)
class CustomerView:
    """What a user is shown of a case's customer: ``fields`` (masked unless in ``clear``), the fields
    left out by the contract, and why anything is in clear (``reason``: "purpose" or "visit")."""

    fields: dict[str, str]
    clear: frozenset[str]
    masked: frozenset[str]
    withheld: frozenset[str]
    can_unmask: bool
    reason: str = ""
    visit: tuple[datetime, datetime] | None = None

    @property
    def masked_fields(self) -> list[str]:
        return [f for f in CUSTOMER_FIELDS if f in self.masked]


def customer_view(*, user: User, case: Case, unmask: Any = (), now: datetime | None = None) -> CustomerView:
    """The customer data ``user`` may see on ``case``, masked by role and purpose.

    * Agency users receive only the fields their contract permits (minimum necessary, PIPL Art 6),
      always masked, except a field collector with a confirmed visit appointment to this customer from
      one day before to one day after it (name, mobile and address in clear; the ID number never).
    * Bank users receive every field, masked; ``unmask`` (field names, after a stated purpose that the
      caller has audited) shows those fields in clear for this response only.
    """
    c = case.customer
    every = {"name": c.name, "mobile": c.mobile, "id_number": c.id_number, "province": c.province,
             "city": c.city, "district": c.district, "address": c.address}
    permitted = permitted_fields_of(user)
    shown = dict(every) if permitted is None else {k: v for k, v in every.items() if FIELD_GATES[k] in permitted}
    withheld = frozenset(every) - frozenset(shown)
    visit = None
    reason = ""
    if user.is_bank_user:
        clear = frozenset(unmask) & PII_FIELDS & frozenset(shown)
        reason = "purpose" if clear else ""
    else:
        visit = visit_window(user=user, case=case, now=now)
        clear = (VISIT_FIELDS & frozenset(shown)) if visit is not None else frozenset()
        reason = "visit" if clear else ""
    out: dict[str, str] = {}
    masked: set[str] = set()
    for k, v in shown.items():
        if k in PII_FIELDS and k not in clear and v:
            out[k] = mask_field(k, v, province=c.province, city=c.city, district=c.district)
            masked.add(k)
        else:
            out[k] = v
    return CustomerView(fields=out, clear=clear, masked=frozenset(masked), withheld=withheld,
                        can_unmask=user.is_bank_user and bool(masked), reason=reason, visit=visit)


def customer_fields_for(*, user: User, case: Case, unmask: Any = (), now: datetime | None = None) -> dict[str, Any]:
    """The customer's data the user may see (see :func:`customer_view`), as a dict."""
    return customer_view(user=user, case=case, unmask=unmask, now=now).fields


def label_case_rows(*, user: User, cases: list[Case]) -> None:
    """Set ``customer_label`` (the masked name, or nothing when the contract withholds names) and
    ``hidden`` (case columns the contract withholds) on each case of a list page."""
    permitted = permitted_fields_of(user)
    hidden = hidden_case_fields(user, permitted=permitted)
    show_name = permitted is None or "name" in permitted
    for case in cases:
        # only when the customer row was read with the case (the API's list reads none: no query per row)
        loaded = Case.customer.is_cached(case)  # type: ignore[attr-defined]
        case.customer_label = mask_name(case.customer.name) if show_name and loaded else ""  # type: ignore[attr-defined]
        case.hidden = hidden  # type: ignore[attr-defined]
