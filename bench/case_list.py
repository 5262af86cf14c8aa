"""Benchmark: an agency's case list (and the bank's filtered list) on a large book.

Builds a throw-away database (SQLite in a temp FIELDCOLLECT_HOME, or the PostgreSQL database named
by DATABASE_URL, which it migrates and fills), with ``--cases`` open cases of which ``--agency-cases``
are placed with one agency, then times the first page, a deep keyset page and the full HTML page
for the agency manager, and two filtered bank lists. Target (issue 3): agency list with 50,000 placed
cases, p95 under 300 ms with a bounded number of queries.

    .venv/bin/python bench/case_list.py --cases 200000 --agency-cases 50000 --repeat 30
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=200_000)
    ap.add_argument("--agency-cases", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--home", default="", help="Reuse this FIELDCOLLECT_HOME (SQLite) instead of a new one")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "case_list.json"))
    args = ap.parse_args()

    if not os.environ.get("DATABASE_URL"):
        os.environ["FIELDCOLLECT_HOME"] = args.home or tempfile.mkdtemp(prefix="fc-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rich.console import Console
    from rich.table import Table

    from fieldcollect.agencies.models import Agency, Collector
    from fieldcollect.cases.models import Case
    from fieldcollect.cases.selectors import CaseFilters, case_list
    from fieldcollect.core.models import Role, User
    from fieldcollect.portfolio.models import Customer, Loan
    from fieldcollect.testing.clients import logged_in

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    console = Console()
    rng = random.Random(7)
    today = date.today()
    t0 = time.perf_counter()
    if Case.objects.count() < args.cases:
        Case.objects.all().delete()
        Loan.objects.all().delete()
        Customer.objects.all().delete()
        agency, _ = Agency.objects.get_or_create(agency_id=1, defaults={"name": "基准机构"})
        other, _ = Agency.objects.get_or_create(agency_id=2, defaults={"name": "其他机构"})
        collectors = [Collector.objects.get_or_create(collector_id=i, defaults={"agency": agency, "name": f"c{i}",
                                                                                  "city": "上海"})[0]
                      for i in range(1, 51)]
        cities = ["上海", "北京", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安", "重庆"]
        batch = 20_000
        for start in range(0, args.cases, batch):
            n = min(batch, args.cases - start)
            ids = range(start + 1, start + n + 1)
            Customer.objects.bulk_create([
                Customer(customer_id=i, name=f"客户{i}", id_number="310101199001011234", mobile="13800000000",
                         province="", city=cities[i % 10], district="", address="") for i in ids])
            Loan.objects.bulk_create([
                Loan(loan_id=i, customer_id=i, product="消费贷", principal_fen=5_000_000, annual_rate="0.18",
                     term_months=12, method="equal_instalment", disbursed_on=today - timedelta(days=400))
                for i in ids])
            rows = []
            for i in ids:
                dpd = rng.randint(1, 200)
                placed_here = i <= args.agency_cases
                placed_other = not placed_here and i % 3 == 0
                rows.append(Case(
                    loan_id=i, customer_id=i, status="assigned" if placed_here else "new", opened_on=today, dpd=dpd,
                    max_dpd=dpd, bucket=f"M{min(dpd // 30 + 1, 7)}", overdue_fen=rng.randint(1_000, 3_000_000),
                    outstanding_principal_fen=3_000_000, city=cities[i % 10],
                    agency=agency if placed_here else (other if placed_other else None),
                    placed_until=today + timedelta(days=60) if (placed_here or placed_other) else None,
                    collector=collectors[i % 50] if placed_here else None,
                ))
            Case.objects.bulk_create(rows)
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    build_s = time.perf_counter() - t0
    agency = Agency.objects.get(pk=1)
    manager, _ = User.objects.get_or_create(username="bench_mgr", defaults={"role": Role.AGENCY_MANAGER,
                                                                             "agency": agency})
    bank, _ = User.objects.get_or_create(username="bench_bank", defaults={"role": Role.COLLECTIONS_MANAGER})

    def timed(fn) -> tuple[list[float], int]:  # type: ignore[no-untyped-def]
        fn()  # warm
        times = []
        with CaptureQueriesContext(connection) as ctx:
            fn()
        queries = len(ctx.captured_queries)
        for _ in range(args.repeat):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        reset_queries()
        return times, queries

    deep_cursor = None
    page = case_list(user=manager, filters=CaseFilters(), limit=50)
    for _ in range(200):  # walk 200 pages deep (10,000 rows)
        page = case_list(user=manager, filters=CaseFilters(), cursor=page.next_cursor, limit=50)
    deep_cursor = page.next_cursor

    client = logged_in(manager)
    from fieldcollect.accounts.tokens import token_create

    api_client = Client(headers={"Authorization": f"Bearer {token_create(user=manager)[1]}"})
    bank_client = logged_in(bank)
    scenarios = {
        "agency list, page 1 + exact count (selector)":
            lambda: case_list(user=manager, filters=CaseFilters(), limit=50, with_count=True, count_cap=None),
        "agency list, page 201 (keyset)":
            lambda: case_list(user=manager, filters=CaseFilters(), cursor=deep_cursor, limit=50),
        "agency list HTML page (view + template)":
            lambda: client.get("/cases/"),
        "agency API GET /api/v1/cases (HTTP, bearer token)":
            lambda: api_client.get("/api/v1/cases?limit=50"),
        "bank list, bucket M3 + city + amount (HTML)":
            lambda: bank_client.get("/cases/?bucket=M3&city=上海&amount_min=1000"),
        "bank list, city 上海, page 1 + count capped at 1,000 (selector)":
            lambda: case_list(user=bank, filters=CaseFilters(city="上海"), limit=50, with_count=True),
        "bank list, dpd 90-120 page 1 + capped count (selector)":
            lambda: case_list(user=bank, filters=CaseFilters(dpd_min=90, dpd_max=120), limit=50, with_count=True),
    }
    results = []
    table = Table("scenario", "p50 ms", "p95 ms", "max ms", "queries")
    for name, fn in scenarios.items():
        times, queries = timed(fn)
        times.sort()
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        row = {"scenario": name, "p50_ms": round(statistics.median(times), 2), "p95_ms": round(p95, 2),
               "max_ms": round(times[-1], 2), "queries": queries}
        results.append(row)
        table.add_row(name, f"{row['p50_ms']:.1f}", f"{row['p95_ms']:.1f}", f"{row['max_ms']:.1f}", str(queries))
    console.print(table)
    out = {
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "database": connection.vendor,
        "cases": args.cases,
        "agency_cases": args.agency_cases,
        "repeat": args.repeat,
        "build_seconds": round(build_s, 1),
        "machine": {"nproc": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_avg": os.getloadavg()},
        "target": "agency list with 50,000 placed cases: p95 < 300 ms, bounded queries",
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=2))
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
