"""A realistic open book for the nightly benchmark's second business day: the bulk path, documented.

After the first night has opened the cases (``run_daily`` on an empty case table), a bank's book on
the next morning is not a heap of ``new`` cases: most are placed with agencies, some carry promises
to pay due in the coming days, a few are restructured with plans being watched. This module writes
that state straight into the tables with ``bulk_create`` / set-based updates, as a data migration
would, so that ten thousand or two hundred thousand cases are seeded in seconds:

* ``placed_share`` of the open cases get an active :class:`~fieldcollect.cases.models.Placement` with
  one of ``agencies`` approved agencies (each with a contract in force covering the bucket), the case
  moves to ``placed`` with ``agency`` and ``placed_until`` set, as ``placements_create`` leaves it;
* ``promise_share`` of the placed cases get an open :class:`~fieldcollect.cases.models.PromiseToPay`
  (made by the agency over the last week, due from three days before to five days after the next
  business date, a part of the overdue amount) and move to ``promise``;
* ``plan_share`` of the placed cases get an accepted, performing restructuring plan (a hardship
  record, the accepted proposal and its monthly instalments, the first one due a few days before or
  after the next business date) and move to ``restructured``.

What the services would add besides (audit records, outbox messages, agreement PDFs) is not read by
the nightly steps and is left out; the nightly steps read exactly these rows. Seeded with ``seed``.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any


def seed_open_book(*, as_of: date, next_day: date, seed: int = 7, agencies: int = 12, placed_share: float = 0.7,
                   promise_share: float = 0.2, plan_share: float = 0.04) -> dict[str, Any]:
    """Seed the open cases (opened by the night of ``as_of``) for the night of ``next_day``; counts back."""
    from django.db import transaction

    from fieldcollect.agencies.models import Agency, AgencyContract
    from fieldcollect.cases.lifecycle import CaseStatus
    from fieldcollect.cases.models import Case, Placement, PromiseToPay
    from fieldcollect.core.models import User
    from fieldcollect.plans.models import (
        Hardship,
        HardshipReason,
        PlanInstalment,
        PlanStatus,
        ProposalState,
        RestructuringProposal,
    )

    rng = random.Random(seed)
    buckets = ["M1", "M2", "M3", "M4", "M5", "M6", "M6+"]
    with transaction.atomic():
        maker, _ = User.objects.get_or_create(username="bench-maker", defaults={"role": "collections_manager"})
        firms = []
        for n in range(agencies):
            agency = Agency.objects.create(
                agency_id=9000 + n, name=f"基准机构{n}", name_en=f"Bench agency {n}", status=Agency.Status.APPROVED,
                regions=[], capacity=0, eligible_buckets=buckets, placement_days=60,
                dsa_valid_until=next_day + timedelta(days=365))
            contract = AgencyContract.objects.create(
                agency=agency, reference=f"BENCH-{n}", starts_on=as_of - timedelta(days=200),
                ends_on=next_day + timedelta(days=200), regions=[], capacity=1_000_000, eligible_buckets=buckets,
                placement_days=60, max_retentions=1, commission_tiers=dict.fromkeys(buckets, "0.10"),
                permitted_fields=["name", "mobile", "city"], dsa_signed_on=as_of - timedelta(days=200),
                dsa_valid_until=next_day + timedelta(days=365))
            firms.append((agency, contract))
        cases = list(Case.objects.filter(closed_on__isnull=True).order_by("pk")
                     .values_list("pk", "loan_id", "bucket", "overdue_fen", "outstanding_principal_fen"))
        rng.shuffle(cases)
        placed = cases[: int(len(cases) * placed_share)]
        placements, promises = [], []
        by_status: dict[str, list[int]] = {CaseStatus.PLACED: [], CaseStatus.PROMISE: [], CaseStatus.RESTRUCTURED: []}
        agency_of: dict[int, int] = {}
        plan_rows = []
        for i, (case_id, loan_id, bucket, overdue, outstanding) in enumerate(placed):
            agency, contract = firms[i % len(firms)]
            starts = as_of - timedelta(days=rng.randint(0, 40))
            placements.append(Placement(case_id=case_id, agency=agency, contract=contract,
                                        status=Placement.Status.ACTIVE, starts_on=starts,
                                        ends_on=starts + timedelta(days=60), bucket_at_placement=bucket,
                                        overdue_fen_at_placement=overdue))
            agency_of[case_id] = agency.pk
            draw = rng.random()
            if draw < promise_share and overdue > 0:
                promised = as_of - timedelta(days=rng.randint(0, 6))
                promises.append(PromiseToPay(case_id=case_id, agency=agency,
                                             amount_fen=max(100, overdue * rng.randint(30, 100) // 100),
                                             due_on=next_day + timedelta(days=rng.randint(-3, 5)),
                                             promised_on=promised, status=PromiseToPay.Status.OPEN))
                by_status[CaseStatus.PROMISE].append(case_id)
            elif draw < promise_share + plan_share and outstanding > 0:
                plan_rows.append((case_id, loan_id, agency, max(outstanding, overdue)))
                by_status[CaseStatus.RESTRUCTURED].append(case_id)
            else:
                by_status[CaseStatus.PLACED].append(case_id)
        Placement.objects.bulk_create(placements, batch_size=5_000)
        PromiseToPay.objects.bulk_create(promises, batch_size=5_000)
        until = {p.case_id: p.ends_on for p in placements}
        for status, ids in by_status.items():
            for chunk in range(0, len(ids), 5_000):
                part = ids[chunk:chunk + 5_000]
                Case.objects.filter(pk__in=part).update(status=status)
        _set_agency(agency_of, until)
        hardships = [Hardship(case_id=case_id, reason=rng.choice(list(HardshipReason)),
                              monthly_income_fen=rng.randint(300_000, 900_000),
                              monthly_expenses_fen=rng.randint(200_000, 600_000)) for case_id, *_ in plan_rows]
        Hardship.objects.bulk_create(hardships, batch_size=2_000)
        accepted = datetime.combine(as_of - timedelta(days=35), time(10), tzinfo=UTC)
        proposals = []
        schedules = []
        for (case_id, _loan, agency, owed), hardship in zip(plan_rows, hardships, strict=True):
            term = rng.choice([6, 12, 18])
            instalment = max(100, owed // term)
            first_due = next_day + timedelta(days=rng.randint(-6, 10))
            schedule = [(first_due + timedelta(days=30 * k), instalment if k < term - 1 else owed - instalment * k)
                        for k in range(term)]
            schedules.append(schedule)
            proposals.append(RestructuringProposal(
                case_id=case_id, hardship=hardship, agency=agency, kind="term_extension",
                parameters={"term_months": term}, schedule=[{"seq": k + 1, "due": d.isoformat(), "payment_fen": a}
                                                            for k, (d, a) in enumerate(schedule)],
                as_of=as_of - timedelta(days=40), annual_rate=Decimal("0.12"), total_owed_fen=owed,
                new_principal_fen=owed, total_cost_fen=owed, original_cost_fen=owed, first_instalment_fen=instalment,
                max_instalment_fen=max(a for _, a in schedule), term_months=term, pv_original_fen=owed,
                pv_new_fen=owed, bank_loss_pv_fen=0, state=ProposalState.ACCEPTED, maker=maker,
                accepted_at=accepted, plan_status=PlanStatus.PERFORMING))
        RestructuringProposal.objects.bulk_create(proposals, batch_size=2_000)
        instalments = []
        for (case_id, loan_id, _agency, owed), proposal, schedule in zip(plan_rows, proposals, schedules, strict=True):
            opening = owed
            for k, (due, amount) in enumerate(schedule):
                instalments.append(PlanInstalment(proposal=proposal, case_id=case_id, loan_id=loan_id, seq=k + 1,
                                                  due_date=due, opening_fen=opening, principal_fen=amount,
                                                  interest_fen=0, payment_fen=amount, closing_fen=opening - amount))
                opening -= amount
        PlanInstalment.objects.bulk_create(instalments, batch_size=10_000)
    return {"open_cases": len(cases), "placed": len(placements), "promises_open": len(promises),
            "plans_performing": len(proposals), "plan_instalments": len(instalments), "agencies": agencies}


def _set_agency(agency_of: dict[int, int], until: dict[int, date]) -> None:
    """Each placed case's ``agency`` and ``placed_until`` in one statement (a VALUES join)."""
    from django.db import connection

    from fieldcollect.cases.models import Case
    from fieldcollect.core.rawsql import copy_rows

    if not agency_of:
        return
    rows = [(case_id, agency_id, until[case_id]) for case_id, agency_id in agency_of.items()]
    table = Case._meta.db_table
    with connection.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE fc_bench_agency (case_id bigint, agency_id bigint, placed_until date)")
        copy_rows("fc_bench_agency", ("case_id", "agency_id", "placed_until"), rows)
        cur.execute(f"UPDATE {table} SET agency_id = t.agency_id, placed_until = t.placed_until "
                    f"FROM fc_bench_agency t WHERE {table}.id = t.case_id")
        cur.execute("DROP TABLE fc_bench_agency")
