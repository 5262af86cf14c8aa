"""Load benchmark of the agency API against PostgreSQL (loopback only, bounded in time).

1. Creates the database ``fc_load`` (dropped first), migrates it and seeds agencies, their
   managers with API tokens, cases placed with them and a history of contact attempts, then
   analyzes it.
2. Starts ``fieldcollect serve-prod`` (gunicorn) on a free loopback port and warms it.
3. Paced run: ``--users`` agency clients (locust, in its own process), each pausing about 1 s
   between requests, half listing cases and half recording contacts, for ``--duration`` seconds
   after the ramp-up.
4. Saturation runs without pauses at several client counts, side by side at each: the trivial
   ``/healthz`` (the ceiling), then recording contacts only; the best of each is compared.
5. Counts the contact rows in the database: every 201 the clients saw must be a row (no lost write).
6. The floor (``--floor``, on by default): ``bench/contact_floor_app.py``, the contact's SQL with no
   framework around it, served the same way and driven by the same users, beside its own trivial
   endpoint: how far this machine can go at all.

Writes ``bench/results/load.json`` and ``bench/results/load_saturation.png``. Example::

    .venv/bin/python bench/load.py --duration 300
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "load.json"
LOCUSTFILE = ROOT / "bench" / "load_locustfile.py"
CONTACT = "POST /api/v1/cases/{id}/contacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_database(name: str) -> None:
    for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)


def seed(*, agencies: int, cases_per_agency: int, history_per_case: int = 0) -> list[dict[str, Any]]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from fieldcollect.accounts.tokens import token_create
    from fieldcollect.core.models import Role
    from fieldcollect.testing import factories as f

    cm = f.make_user(role=Role.COLLECTIONS_MANAGER, username="load-cm")
    notice_at = f.in_hours(10, f.today() - timedelta(days=90))
    clients = []
    for a in range(agencies):
        agency = f.make_agency()
        f.make_contract(agency=agency, capacity=100_000)
        manager = f.make_user(role=Role.AGENCY_MANAGER, agency=agency, username=f"load-agency-{a}")
        _, secret = token_create(user=manager, name="load")
        ids = []
        for _ in range(cases_per_agency):
            case = f.make_case()
            # its notice before outsourcing sent before the 60 days of logged attempts (load_bodies.attempt_time)
            f.place(case, agency=agency, cm=cm, notice=notice_at)
            ids.append(case.pk)
        clients.append({"token": secret, "cases": ids})
    if history_per_case:
        seed_history(clients=clients, per_case=history_per_case)
    from django.db import connection

    with connection.cursor() as cursor:  # planner statistics, as autovacuum keeps them in production
        cursor.execute("ANALYZE")
    return clients


def seed_history(*, clients: list[dict[str, Any]], per_case: int) -> None:
    """Earlier contact attempts on every case (a book has a history: the compliance ledger and the
    contact table are not empty when the day starts), spread over the last 90 days, 09:00-19:59
    Beijing time, in bulk."""
    import random

    from load_bodies import attempt_time

    from fieldcollect.cases.models import Case, ContactAttempt

    rng = random.Random(11)
    cases = Case.objects.filter(pk__in=[i for c in clients for i in c["cases"]]).only("id", "agency_id")
    rows = []
    for case in cases:
        for _ in range(per_case):
            rows.append(ContactAttempt(case_id=case.pk, agency_id=case.agency_id, channel=rng.choice(
                ("phone", "phone", "sms", "letter")), party="debtor", number="", outcome="no_answer",
                at=datetime.fromisoformat(attempt_time(rng, days=90)), notes="history"))
    ContactAttempt.objects.bulk_create(rows, batch_size=5_000)


def contact_rows() -> int:
    from fieldcollect.cases.models import ContactAttempt

    return ContactAttempt.objects.count()


def missing_contacts(ids: list[int]) -> list[int]:
    """Acknowledged contact ids that are not in the database (lost writes)."""
    from fieldcollect.cases.models import ContactAttempt

    found: set[int] = set()
    for i in range(0, len(ids), 5_000):
        found |= set(ContactAttempt.objects.filter(pk__in=ids[i:i + 5_000]).values_list("pk", flat=True))
    return sorted(set(ids) - found)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM (gunicorn finishes its requests), then kill after 30 s."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def wait_ready(url: str, timeout: float = 120, path: str = "/readyz") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + path, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"server at {url} not ready after {timeout} s")


def warm_up(url: str, clients: list[dict[str, Any]], requests: int = 400) -> None:
    """A few hundred requests before measuring, so that every worker has its database connection
    and its prepared statements (a deployed server is warm; its first second is not the load)."""
    import concurrent.futures

    def one(i: int) -> None:
        me = clients[i % len(clients)]
        req = urllib.request.Request(f"{url}/api/v1/cases?limit=20",
                                     headers={"Authorization": f"Bearer {me['token']}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(one, range(requests)))


def run_locust(*, host: str, mode: str, users: int, seconds: int, clients_file: Path, out_dir: Path,
               spawn_rate: int) -> dict[str, dict[str, float]]:
    """Run locust for ``seconds`` after its users have started: the statistics are reset once every
    user runs (``--reset-stats``), so the ramp-up (``users / spawn_rate`` seconds) is not measured."""
    prefix = out_dir / mode
    ramp = -(-users // spawn_rate)
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r",
           str(spawn_rate), "-t", f"{seconds + ramp}s", "--reset-stats", "--host", host, "--csv", str(prefix),
           "--csv-full-history", "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING"]
    env = os.environ | {"FC_LOAD_CLIENTS": str(clients_file), "FC_LOAD_MODE": mode,
                        "FC_LOAD_ACKS": str(out_dir / "acks.txt")}
    with open(out_dir / f"{mode}.log", "w") as log:
        subprocess.run(cmd, env=env, check=False, timeout=seconds + ramp + 120, stdout=log, stderr=log)
    stats: dict[str, dict[str, float]] = {}
    with open(f"{prefix}_stats.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Name"] == "Aggregated":
                continue
            stats[row["Name"]] = {
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]), "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]),
                "p99_ms": float(row["99%"]), "max_ms": float(row["Max Response Time"]),
            }
    return stats


def run_floor(*, workers: int, users: int, seconds: int, db_url: str, clients_file: Path,
              out_dir: Path) -> dict[str, Any]:
    """Serve ``bench/contact_floor_app.py`` with gunicorn (``workers`` sync workers, as the product) and
    run the trivial endpoint, then contacts, at ``users`` clients without pauses."""
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--preload",
         "--chdir", str(LOCUSTFILE.parent), "contact_floor_app:app"],
        env=os.environ | {"FC_FLOOR_DATABASE_URL": db_url}, stdout=subprocess.DEVNULL,
        stderr=open(out_dir / "server.log", "w"))  # noqa: SIM115
    try:
        wait_ready(host, timeout=60, path="/healthz")  # the floor has no /readyz
        stats = {mode: run_locust(host=host, mode=mode, users=users, seconds=seconds, clients_file=clients_file,
                                  out_dir=out_dir, spawn_rate=users) for mode in ("trivial", "contacts")}
    finally:
        stop_server(server)
    contacts = stats["contacts"].get(CONTACT, {})
    return {"app": "bench/contact_floor_app.py", "server": f"gunicorn sync, {workers} workers", "users": users,
            "seconds": seconds, "healthz_rps": stats["trivial"].get("GET /healthz", {}).get("rps", 0.0),
            "contacts_rps": contacts.get("rps", 0.0), "contacts_failures": contacts.get("failures"),
            "stats": stats}


def saturation_chart(sweep: dict[int, dict[str, float]], path: Path, floor: dict[str, Any] | None = None) -> None:
    """Requests per second by client count, the trivial endpoint beside recording a contact; with the
    floor's contacts (the same SQL without the framework) and half the trivial ceiling as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    users = sorted(sweep)
    fig, ax = plt.subplots(figsize=(7.5, 5))
    width = 0.38
    xs = range(len(users))
    ax.bar([x - width / 2 for x in xs], [sweep[u]["healthz_rps"] for u in users], width, label="GET /healthz (trivial)")
    ax.bar([x + width / 2 for x in xs], [sweep[u]["contacts_rps"] for u in users], width,
           label="POST /api/v1/cases/{id}/contacts")
    ceiling = max(sweep[u]["healthz_rps"] for u in users)
    ax.axhline(ceiling / 2, color="grey", linestyle=":", label="target: half the trivial ceiling")
    if floor and floor.get("contacts_rps"):
        ax.axhline(floor["contacts_rps"], color="black", linestyle="--",
                   label=f"floor: the same SQL without a framework ({floor['users']} clients)")
    ax.set_xticks(list(xs), [str(u) for u in users])
    ax.set_xlabel("clients without pauses")
    ax.set_ylabel("requests / s")
    ax.set_title("Saturation: recording a contact beside the trivial endpoint (same run)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=300, help="paced run, seconds (default 300)")
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--saturation-duration", type=int, default=30)
    p.add_argument("--saturation-users", default="8,16,32,64",
                   help="client counts tried without pauses (comma-separated); the best of each endpoint counts")
    p.add_argument("--agencies", type=int, default=20)
    p.add_argument("--cases-per-agency", type=int, default=100)
    p.add_argument("--history-per-case", type=int, default=10,
                   help="earlier contact attempts seeded on every case (default 10, over 90 days)")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--worker-class", default="sync", choices=["sync", "gthread"],
                   help="gunicorn worker class (sync: one request at a time per process, the kernel "
                        "spreads connections over idle workers; gthread: keep-alive, threads)")
    p.add_argument("--spawn-rate", type=int, default=20, help="paced users started per second")
    p.add_argument("--database", default="fc_load")
    p.add_argument("--database-url", default="",
                   help="use this existing, empty PostgreSQL database instead of (re)creating --database")
    p.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON results (and the chart beside)")
    p.add_argument("--no-floor", dest="floor", action="store_false",
                   help="skip the floor run (bench/contact_floor_app.py, the contact's SQL without the framework)")
    args = p.parse_args()

    from rich.console import Console
    from rich.table import Table

    console = Console()
    home = Path(tempfile.mkdtemp(prefix="fc-load-"))
    db_url = args.database_url or f"postgres://postgres@127.0.0.1:5432/{args.database}"
    os.environ.update({"DATABASE_URL": db_url, "FIELDCOLLECT_HOME": str(home), "DJANGO_SETTINGS_MODULE":
                       "config.settings", "ACCESS_LOG": "0", "LOG_LEVEL": "WARNING", "DEBUG": "0",
                       "GUNICORN_WORKER_CLASS": args.worker_class})
    os.environ.pop("FIELDCOLLECT_QUEUE", None)
    sys.path.insert(0, str(ROOT))
    if not args.database_url:
        create_database(args.database)
    t0 = time.perf_counter()
    clients = seed(agencies=args.agencies, cases_per_agency=args.cases_per_agency,
                   history_per_case=args.history_per_case)
    seed_s = time.perf_counter() - t0
    clients_file = home / "clients.json"
    clients_file.write_text(json.dumps(clients))
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "fieldcollect.ops", "serve-prod", "--host", "127.0.0.1",
                               "--port", str(port), "--workers", str(args.workers), "--threads", str(args.threads),
                               "--no-migrate"], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=open(home / "server.log", "w"))  # noqa: SIM115
    phases: dict[str, Any] = {}
    levels = [int(u) for u in str(args.saturation_users).split(",") if u.strip()]
    for users in levels:
        for mode in ("trivial", "contacts"):
            (home / f"{mode}_{users}").mkdir()
    floor_dir = home / "floor"
    floor_dir.mkdir()
    try:
        wait_ready(host)
        warm_up(host, clients)
        rows_before = contact_rows()
        phases["paced"] = run_locust(host=host, mode="paced", users=args.users, seconds=args.duration,
                                     clients_file=clients_file, out_dir=home, spawn_rate=args.spawn_rate)
        for users in levels:  # side by side at each client count: the trivial endpoint, then contacts
            for mode in ("trivial", "contacts"):
                phases[f"saturation_{mode}_{users}"] = run_locust(
                    host=host, mode=mode, users=users, seconds=args.saturation_duration, clients_file=clients_file,
                    out_dir=home / f"{mode}_{users}", spawn_rate=users)
        time.sleep(1)
        rows_after = contact_rows()
        ack_files = list(home.rglob("acks.txt"))
        acked = [int(x) for f in ack_files for x in f.read_text().split()]
        refused = sum(len(f.read_text().split()) for f in home.rglob("acks.txt.refused"))
        lost = missing_contacts(acked)
    finally:
        stop_server(server)
    floor = None
    if args.floor:
        best = max(levels, key=lambda u: phases[f"saturation_contacts_{u}"].get(CONTACT, {}).get("rps", 0.0))
        floor = run_floor(workers=args.workers, users=best, seconds=args.saturation_duration, db_url=db_url,
                          clients_file=clients_file, out_dir=floor_dir)
    ok_contacts = sum(s["requests"] - s["failures"] for ph in phases.values() for n, s in ph.items() if n == CONTACT)
    new_rows = rows_after - rows_before
    sweep = {users: {"healthz_rps": phases[f"saturation_trivial_{users}"].get("GET /healthz", {}).get("rps", 0.0),
                     "contacts_rps": phases[f"saturation_contacts_{users}"].get(CONTACT, {}).get("rps", 0.0)}
             for users in levels}
    trivial_rps = max(v["healthz_rps"] for v in sweep.values())
    contact_rps = max(v["contacts_rps"] for v in sweep.values())
    saturation_chart(sweep, args.out.with_name(args.out.stem + "_saturation.png"), floor)
    paced_contact = phases["paced"].get(CONTACT, {})
    result: dict[str, Any] = {
        "command": " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]),
        "machine": {"nproc": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0],
                    "load_average_at_end": os.getloadavg(), "note": "server, PostgreSQL and locust share the "
                    "machine's cores (and with any other work running at the time)"},
        "database": db_url, "server": {"workers": args.workers, "threads": args.threads, "server": f"gunicorn {args.worker_class}",
                   "preload": True, "warm_up_requests": 400},
        "seed": {"agencies": args.agencies, "cases": args.agencies * args.cases_per_agency,
                 "history_contacts": args.agencies * args.cases_per_agency * args.history_per_case,
                 "analyzed": True, "seconds": round(seed_s, 1)},
        "paced": {"users": args.users, "seconds": args.duration, "pause_s": "0.8-1.2",
                  "spawn_rate_per_s": args.spawn_rate, "measured": "after every user started (locust --reset-stats)",
                  "stats": phases["paced"]},
        "saturation": {"users_tried": levels, "seconds_each": args.saturation_duration,
                       "throughput_by_users": sweep, "best_healthz_rps": trivial_rps, "best_contacts_rps": contact_rps,
                       "contact_to_trivial_ratio": round(contact_rps / trivial_rps, 3) if trivial_rps else None,
                       "chart": "bench/results/load_saturation.png",
                       "stats": {k: v for k, v in phases.items() if k.startswith("saturation_")}},
        "floor": None if floor is None else floor | {
            "contacts_to_product_trivial_ratio": round(floor["contacts_rps"] / trivial_rps, 3) if trivial_rps else None,
            "product_contacts_to_floor_contacts_ratio": (round(contact_rps / floor["contacts_rps"], 3)
                                                         if floor["contacts_rps"] else None)},
        "writes": {"contacts_acknowledged_201_or_refused_422": ok_contacts,
                   "acknowledged_ids_recorded": len(acked), "refused_by_compliance_422": refused,
                   "distinct_ids": len(set(acked)), "contact_rows_added": new_rows, "lost_writes": len(lost),
                   "note": "ids and rows exceed the statistics' count: requests during a ramp-up (statistics reset) "
                           "and in flight when a locust run stops are committed but not counted there; every "
                           "acknowledged id is recorded, and a lost write is an acknowledged id missing from the "
                           "database. Contacts are logged attempts (phone/SMS/letter) at random times 09:00-19:59 "
                           "Beijing on the last 60 days, each checked by the compliance engine; a refusal (422 "
                           "compliance.blocked) is an answer, not an error"},
        "targets": {"paced_errors_zero": all(s["failures"] == 0 for s in phases["paced"].values()),
                    "paced_contact_p99_ms": paced_contact.get("p99_ms"),
                    "paced_contact_p99_at_most_100ms": (paced_contact.get("p99_ms") or 1e9) <= 100,
                    "no_lost_writes": not lost,
                    "saturation_contacts_at_least_half_of_trivial": bool(trivial_rps and contact_rps >= trivial_rps / 2)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    table = Table(title=f"load: {args.users} paced users {args.duration} s, saturation at {levels} users")
    for col in ("phase", "endpoint", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(col, justify="right")
    for phase, stats in phases.items():
        for name, s in stats.items():
            table.add_row(phase, name, f"{s['requests']:,}", str(s["failures"]), f"{s['rps']:.1f}",
                          f"{s['p50_ms']:.0f}", f"{s['p95_ms']:.0f}", f"{s['p99_ms']:.0f}")
    console.print(table)
    console.print(f"contacts acknowledged {ok_contacts:,} (ids {len(acked):,}), rows added {new_rows:,}, "
                  f"lost {len(lost)}; "
                  f"saturation contacts/trivial = {result['saturation']['contact_to_trivial_ratio']}")
    if floor is not None:
        console.print(f"floor (the contact's SQL without the framework, {floor['users']} clients): contacts "
                      f"{floor['contacts_rps']:.0f}/s, its trivial endpoint {floor['healthz_rps']:.0f}/s; floor contacts / "
                      f"product trivial = {result['floor']['contacts_to_product_trivial_ratio']}")
    console.print(f"written {args.out}")


if __name__ == "__main__":
    main()
