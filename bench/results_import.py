"""Bulk import of an agency's work results (催记): wall time of ``results_import`` on PostgreSQL.

Seeds one agency with ``--cases`` cases placed 30 days ago (in bulk) and writes a CSV of ``--rows``
work results over the last 20 days (calls to the debtor inside the contact hours, one per case and
day). Every 50th row is a call at 22:30 (a breach of the contact hours) and every 97th names an
unknown case (refused). Then it imports the file (COPY path), imports it again (every row a
duplicate; timed side by side with the first: the duplicates are looked up in one set-based query)
and checks the answers against what the file was made of — the oracle: ``rejected`` is
exactly the unknown-case rows, ``breaches`` exactly the night calls, the second import applies none,
the table holds exactly the applied rows. With ``--check-orm`` the ORM path imports the same file in
a rolled-back transaction and must give the same answer (the smoke run does).

    .venv/bin/python bench/results_import.py --rows 100000 --cases 20000

Target: 100,000 rows in at most 60 s. Writes ``bench/results/results_import.json``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shlex
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "results_import.json"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
TARGET_S = 60.0


def seed(*, cases: int) -> tuple[Any, list[int]]:
    """One agency with a contract and ``cases`` placed cases (bulk inserts)."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)

    from fieldcollect.cases.models import Case
    from fieldcollect.cases.services import cases_place_bulk
    from fieldcollect.portfolio.models import Customer, Loan
    from fieldcollect.testing import factories as f

    agency = f.make_agency()
    f.make_contract(
        agency=agency,
        capacity=cases + 10,
        starts_on=f.today() - timedelta(days=60),
        eligible_buckets=[],
        regions=[],
    )
    today = f.today()
    base = 10_000_000
    customers = [
        f.build_customer(i, customer_id=base + i, id_number=f"3101011990{i:08d}", mobile=f"139{i:08d}")
        for i in range(cases)
    ]
    Customer.objects.bulk_create(customers, batch_size=2_000)
    Loan.objects.bulk_create([f.build_loan(base + i, customer_id=base + i) for i in range(cases)], batch_size=2_000)
    made = Case.objects.bulk_create(
        [f.build_case(loan_id=base + i, customer_id=base + i) for i in range(cases)], batch_size=2_000
    )
    placed = cases_place_bulk(placements=[(c, agency) for c in made], starts_on=today - timedelta(days=30))
    assert placed == cases, (placed, cases)
    # the notices before outsourcing the placements queued, sent by the outbox on the placements' day (the
    # agency's contacts wait for them and the pack's waiting days)
    from fieldcollect.core.bank_time import bank_time_zone
    from fieldcollect.outbox.services import outbox_dispatch

    sent_at = datetime.combine(today - timedelta(days=30), datetime.min.time(), tzinfo=bank_time_zone()) + timedelta(hours=10)
    sent = outbox_dispatch(kinds=["outsourcing_notice"], now=sent_at, limit=cases)
    assert sent.get("sent", 0) == cases, sent
    from django.db import connection

    with connection.cursor() as cursor:  # planner statistics, as autovacuum keeps them in production
        cursor.execute("ANALYZE")
    return agency, [c.pk for c in made]


def make_file(*, case_ids: list[int], rows: int) -> tuple[bytes, dict[str, int]]:
    """The CSV and what it holds (rows, night calls, unknown cases)."""
    from fieldcollect.cases.results_import import COLUMNS, call_row
    from fieldcollect.core.bank_time import bank_time_zone

    zone = bank_time_zone()  # the demo debtors live in the bank's zone

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    today = datetime.now(zone).date()
    night = unknown = 0
    n_cases = len(case_ids)
    for i in range(rows):
        case = case_ids[i % n_cases]
        day = today - timedelta(days=1 + (i // n_cases) % 20)  # one row per case and day
        if i % 97 == 96:
            case, unknown = 999_999_999, unknown + 1
            hour, minute = 10, 0
        elif i % 50 == 49:
            hour, minute, night = 22, 30, night + 1
        else:
            hour, minute = 9 + i % 11, (i * 7) % 60
        at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).isoformat()
        connected = int(i % 3 == 0)
        outcome = "promise" if i % 41 == 0 else ("callback" if connected else "no_answer")
        promise = ("50000", (day + timedelta(days=7)).isoformat()) if outcome == "promise" else ("", "")
        notes = "客户称下周还款" if i % 5 == 0 else ""
        w.writerow(
            call_row(agency_ref=f"BR-{i:07d}", case_id=case, at=at, outcome=outcome, connected=connected, promise=promise, notes=notes)
        )
    return buf.getvalue().encode("utf-8"), {"rows": rows, "night_calls": night, "unknown_cases": unknown}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--cases", type=int, default=20_000)
    p.add_argument("--smoke", action="store_true", help="600 rows over 150 cases, with --check-orm")
    p.add_argument("--check-orm", action="store_true", help="also import through the ORM path (rolled back)")
    p.add_argument("--database", default="fc_results_import")
    p.add_argument(
        "--database-url",
        default="",
        help="use this existing, empty PostgreSQL database instead of (re)creating --database",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON results")
    args = p.parse_args()
    if args.smoke:
        args.rows, args.cases, args.check_orm = 600, 150, True
    if args.rows > args.cases * 20:
        p.error("--rows may be at most 20 x --cases (one row per case and day over 20 days)")

    home = Path(tempfile.mkdtemp(prefix="fc-results-"))
    os.environ.update(
        {
            "DATABASE_URL": args.database_url or f"postgres://postgres@127.0.0.1:5432/{args.database}",
            "FIELDCOLLECT_HOME": str(home),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOG_LEVEL": "WARNING",
            "DEBUG": "0",
        }
    )
    if not args.database_url:
        from load import create_database  # bench/load.py

        create_database(args.database)
    t0 = time.perf_counter()
    agency, case_ids = seed(cases=args.cases)
    seed_s = time.perf_counter() - t0
    data, made = make_file(case_ids=case_ids, rows=args.rows)

    from django.db import transaction

    from fieldcollect.cases.models import ContactAttempt
    from fieldcollect.cases.results_import import results_import

    orm: dict[str, Any] | None = None
    orm_s = None
    if args.check_orm:

        class Undo(Exception):
            pass

        t0 = time.perf_counter()
        try:
            with transaction.atomic():
                orm = results_import(
                    agency=agency, data=data, filename="results.csv", acting_user=None, method="orm"
                ).as_dict()
                raise Undo
        except Undo:
            pass
        orm_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = results_import(agency=agency, data=data, filename="results.csv", acting_user=None).as_dict()
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    second = results_import(agency=agency, data=data, filename="results.csv", acting_user=None).as_dict()
    second_s = time.perf_counter() - t0
    stored = ContactAttempt.objects.filter(agency=agency).count()
    stored_breaches = ContactAttempt.objects.filter(agency=agency).exclude(breach_rules=[]).count()

    good = made["rows"] - made["unknown_cases"]
    checks = {
        "rejected_are_the_unknown_cases": len(first["rejected"]) == made["unknown_cases"]
        and all(r["reason"] == "unknown_case" and r["column"] == "case_id" for r in first["rejected"]),
        "breaches_are_the_night_calls": first["breaches"] == made["night_calls"] == stored_breaches,
        "applied_are_the_good_rows": first["applied"] == good == stored,
        "second_import_applies_none": second["applied"] == 0 and second["duplicates"] == good
        and len(second["rejected"]) == made["unknown_cases"],
        "orm_path_gives_the_same_answer": orm is None or orm == first,
    }
    load1, load5, load15 = os.getloadavg()
    report = {
        "command": " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]),
        "database": "postgresql",
        "rows": args.rows,
        "cases": args.cases,
        "file_bytes": len(data),
        "seed_s": round(seed_s, 2),
        "import_s": round(first_s, 2),
        "rows_per_s": round(args.rows / first_s) if first_s else None,
        "reimport_all_duplicates_s": round(second_s, 2),
        "reimport_over_import": round(second_s / first_s, 2) if first_s else None,
        "orm_path_s": round(orm_s, 2) if orm_s is not None else None,
        "target_s": TARGET_S,
        "within_target": first_s <= TARGET_S * args.rows / 100_000,
        "answer": {k: (len(v) if k == "rejected" else v) for k, v in first.items()},
        "made": made,
        "checks": checks,
        "load_average": {"1m": load1, "5m": load5, "15m": load15},
        "cpus": os.cpu_count(),
        "measured_at": datetime.now(ZoneInfo("UTC")).isoformat(timespec="seconds"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if not all(checks.values()):
        print(f"FAILED checks: {[k for k, v in checks.items() if not v]}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
