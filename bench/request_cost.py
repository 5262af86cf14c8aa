"""CPU cost of one API request, split between the Django process and its PostgreSQL backend.

Runs the real WSGI application in this process (Django's test client: URL routing, every middleware,
django-ninja, the services) against PostgreSQL, with the same bearer token and request bodies as
``bench/load.py``, and reports for each endpoint the wall time, this process's CPU time and the
PostgreSQL backend's CPU time (``/proc/<pid>/stat`` of the connection's server process) per request,
plus the number of SQL statements. The load benchmark shares 2 cores between gunicorn, PostgreSQL and
locust; this tells where the CPU of a request goes without the noise of a concurrent run.

    .venv/bin/python bench/request_cost.py --requests 2000 [--profile contact]

Writes ``bench/results/request_cost.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "request_cost.json"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def backend_cpu_s(pid: int) -> float:
    """User plus system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--cases", type=int, default=500)
    p.add_argument("--database", default="fc_request_cost")
    p.add_argument("--database-url", default="",
                   help="use this existing, empty PostgreSQL database instead of (re)creating --database")
    p.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON results")
    p.add_argument("--profile", choices=["healthz", "list", "contact"], help="cProfile this endpoint (top 40)")
    args = p.parse_args()

    home = Path(tempfile.mkdtemp(prefix="fc-cost-"))
    os.environ.update({"DATABASE_URL": args.database_url or f"postgres://postgres@127.0.0.1:5432/{args.database}",
                       "FIELDCOLLECT_HOME": str(home), "DJANGO_SETTINGS_MODULE": "config.settings",
                       "ACCESS_LOG": "0", "LOG_LEVEL": "WARNING", "DEBUG": "0"})
    from load import create_database, seed  # bench/load.py: the same database and clients as the load run
    from load_bodies import contact_body

    if not args.database_url:
        create_database(args.database)
    clients = seed(agencies=1, cases_per_agency=args.cases)
    from django.db import connection
    from django.test import Client

    token, cases = clients[0]["token"], clients[0]["cases"]
    http = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="en")
    rng = random.Random(7)

    def healthz() -> int:
        return int(http.get("/healthz").status_code)

    def list_cases() -> int:
        return int(http.get("/api/v1/cases?limit=20").status_code)

    def contact() -> int:
        r = http.post(f"/api/v1/cases/{rng.choice(cases)}/contacts", data=contact_body(rng),
                      content_type="application/json")
        return int(r.status_code)

    endpoints: dict[str, Callable[[], int]] = {"healthz": healthz, "list": list_cases, "contact": contact}
    results: dict[str, Any] = {}
    for name, fn in endpoints.items():
        for _ in range(min(200, args.requests)):  # warm caches and the connection
            fn()
        connection.ensure_connection()
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
        statements: list[str] = []

        def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):  # the test client resets connection.queries per request
            fn()
        statuses: dict[int, int] = {}
        profiler = cProfile.Profile(time.process_time) if args.profile == name else None  # CPU, not wall
        pg0, cpu0, t0 = backend_cpu_s(pid), time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for _ in range(args.requests):
            status = fn()
            statuses[status] = statuses.get(status, 0) + 1
        if profiler:
            profiler.disable()
        wall, cpu, pg = time.perf_counter() - t0, time.process_time() - cpu0, backend_cpu_s(pid) - pg0
        n = args.requests
        results[name] = {"requests": n, "statuses": statuses, "wall_ms": round(1000 * wall / n, 3),
                         "python_cpu_ms": round(1000 * cpu / n, 3), "postgres_cpu_ms": round(1000 * pg / n, 3),
                         "sql_statements": len(statements),
                         "sql": [q[:200] for q in statements]}
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    out = {"command": " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]),
           "note": "per request, in this process (Django test client, all middleware) against PostgreSQL on "
                   "loopback; python_cpu_ms is this process, postgres_cpu_ms the connection's backend",
           "endpoints": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"request cost, {args.requests} requests each")
    for col in ("endpoint", "wall ms", "python CPU ms", "PostgreSQL CPU ms", "SQL statements", "statuses"):
        table.add_column(col, justify="right")
    for name, r in results.items():
        table.add_row(name, f"{r['wall_ms']:.2f}", f"{r['python_cpu_ms']:.2f}", f"{r['postgres_cpu_ms']:.2f}",
                      str(r["sql_statements"]), str(r["statuses"]))
    Console().print(table)


if __name__ == "__main__":
    main()
