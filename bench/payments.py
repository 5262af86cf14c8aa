"""Benchmark: same-day payment lines through ``fieldcollect payments post --file P.jsonl --json``.

Builds ``--cases`` open cases (a share placed with an agency, a share with an open promise to pay, a
share with a visit booked for tomorrow), writes ``--lines`` payment lines over them, and runs the
command as its users run it (a child process), twice: the first run applies every line, the second
finds every line a duplicate. The oracle (computed here, apart from the product's code) checks each
line applied exactly once (one event and one case payment per line, the amounts per loan), the
promises kept, the visits of the cases paid up cancelled and the commission attribution. Target
(issue 22): 100,000 lines in at most 60 s.

    .venv/bin/python bench/payments.py                    # 100,000 lines (SQLite, or DATABASE_URL)
    .venv/bin/python bench/payments.py --smoke --out /tmp/p.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--cases", type=int, default=40_000)
    ap.add_argument("--smoke", action="store_true", help="A small run (2,000 lines over 400 cases)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "payments.json"))
    ap.add_argument("--target-seconds", type=float, default=60.0)
    args = ap.parse_args()
    if args.smoke:
        args.lines, args.cases = 2_000, 400
    if not os.environ.get("DATABASE_URL"):
        os.environ["FIELDCOLLECT_HOME"] = os.environ.get("FIELDCOLLECT_HOME") or tempfile.mkdtemp(
            prefix="fc-bench-"
        )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, Max, Sum
    from django.utils import timezone

    from fieldcollect.agencies.models import Agency, Collector
    from fieldcollect.cases.models import Case, Payment, Placement, PromiseToPay
    from fieldcollect.payments.channels import channel_add
    from fieldcollect.payments.models import PaymentEvent
    from fieldcollect.portfolio.models import Customer, Loan
    from fieldcollect.testing import factories as f
    from fieldcollect.visits.models import Appointment

    call_command("migrate", verbosity=0)
    rng = random.Random(22)
    run = f"{int(time.time())}{rng.randrange(1000):03d}"
    channel = "benchpay"
    channel_add(name=channel)
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)

    # the book: fresh ids after whatever the database holds
    t0 = time.perf_counter()
    base = max(Loan.objects.aggregate(m=Max("loan_id"))["m"] or 0, 10_000_000) + 1
    agency_id = (Agency.objects.aggregate(m=Max("agency_id"))["m"] or 0) + 1
    agency = Agency.objects.create(agency_id=agency_id, name=f"基准机构{run}", status=Agency.Status.APPROVED)
    collector = Collector.objects.create(
        collector_id=(Collector.objects.aggregate(m=Max("collector_id"))["m"] or 0) + 1,
        agency=agency,
        name="基准催收员",
        city="上海",
    )
    ids = list(range(base, base + args.cases))
    Customer.objects.bulk_create(
        [f.build_customer(i, id_number=f"31010119900101{i % 10000:04d}", mobile=f"139{i % 10**8:08d}") for i in ids],
        batch_size=5_000,
    )
    Loan.objects.bulk_create([f.build_loan(i, customer_id=i, principal_fen=3_000_000) for i in ids], batch_size=5_000)
    placed = set(rng.sample(ids, args.cases // 2))
    overdue = {i: rng.randrange(30_000, 250_000) for i in ids}
    Case.objects.bulk_create(
        [
            f.build_case(
                loan_id=i,
                customer_id=i,
                overdue_fen=overdue[i],
                outstanding_principal_fen=2_000_000,
                last_cycle_on=yesterday,
                agency=agency if i in placed else None,
                status="placed" if i in placed else "new",
            )
            for i in ids
        ],
        batch_size=5_000,
    )
    case_of = dict(Case.objects.filter(loan_id__in=ids, closed_on__isnull=True).values_list("loan_id", "pk"))
    Placement.objects.bulk_create(
        [
            Placement(
                case_id=case_of[i],
                agency=agency,
                starts_on=today - timedelta(days=10),
                ends_on=today + timedelta(days=50),
            )
            for i in placed
        ],
        batch_size=5_000,
    )
    placement_of = dict(Placement.objects.filter(agency=agency).values_list("case_id", "pk"))

    # the payment lines: each loan gets a few; unique references
    amounts: dict[int, int] = {}
    path = Path(tempfile.mkdtemp(prefix="fc-bench-pay-")) / "P.jsonl"
    paid_at = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    with path.open("w") as fh:
        for n in range(args.lines):
            loan = ids[n % len(ids)] if n < len(ids) else rng.choice(ids)
            amount = rng.randrange(1_000, 60_000)
            amounts[loan] = amounts.get(loan, 0) + amount
            fh.write(
                json.dumps(
                    {
                        "reference": f"B{run}-{n}",
                        "loan_id": loan,
                        "amount_fen": amount,
                        "paid_at": paid_at,
                        "channel": channel,
                    }
                )
                + "\n"
            )
    # promises (a tenth of the cases): kept when the day's payments reach them
    promised = rng.sample(ids, args.cases // 10)
    promise_amount = {i: rng.randrange(10_000, 200_000) for i in promised}
    PromiseToPay.objects.bulk_create(
        [
            PromiseToPay(
                case_id=case_of[i],
                amount_fen=promise_amount[i],
                due_on=today + timedelta(days=3),
                promised_on=yesterday,
            )
            for i in promised
        ],
        batch_size=5_000,
    )
    # visits booked for tomorrow (a twentieth of the placed cases): cancelled when the case is paid up
    visited = rng.sample(sorted(placed), max(10, len(placed) // 20))
    start = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
    Appointment.objects.bulk_create(
        [
            Appointment(
                case_id=case_of[i],
                collector=collector,
                status=Appointment.Status.CONFIRMED,
                chosen_start=start,
                chosen_end=start + timedelta(hours=1),
                expires_at=start,
            )
            for i in visited
        ],
        batch_size=5_000,
    )
    build_s = time.perf_counter() - t0

    def post() -> tuple[dict, float]:
        t = time.perf_counter()
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        proc = subprocess.run(
            [sys.executable, "-m", "fieldcollect.cli", "payments", "post", "--file", str(path), "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - t
        if proc.returncode != 0:
            raise SystemExit(
                f"payments post failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
            )
        return json.loads(proc.stdout), seconds

    load_before = os.getloadavg()
    first, first_s = post()
    load_after_first = os.getloadavg()
    second, second_s = post()

    # the oracle
    events = PaymentEvent.objects.filter(channel=channel, reference__startswith=f"B{run}-")
    pays = Payment.objects.filter(reference__startswith=f"{channel}:B{run}-")
    per_loan = dict(pays.values("loan_id").annotate(t=Sum("amount_fen")).values_list("loan_id", "t"))
    once = dict(
        pays.values("reference").annotate(n=Count("id")).filter(n__gt=1).values_list("reference", "n")
    )
    attributed = dict(pays.values_list("case_id", "placement_id").distinct())
    expected_kept = {case_of[i] for i in promised if amounts.get(i, 0) >= promise_amount[i]}
    kept = set(
        PromiseToPay.objects.filter(case_id__in=[case_of[i] for i in promised], status="kept").values_list(
            "case_id", flat=True
        )
    )
    expected_cancelled = {case_of[i] for i in visited if amounts.get(i, 0) >= overdue[i]}
    cancelled = set(
        Appointment.objects.filter(
            case_id__in=[case_of[i] for i in visited], cancel_reason="paid"
        ).values_list("case_id", flat=True)
    )
    checks = {
        "first_run_applied_all": first == {"applied": args.lines, "duplicates": 0, "rejected": []},
        "second_run_all_duplicates": second == {"applied": 0, "duplicates": args.lines, "rejected": []},
        "one_event_per_line": events.count() == args.lines,
        "one_case_payment_per_line": pays.count() == args.lines and not once,
        "amounts_per_loan": per_loan == amounts,
        "commission_attribution": all(
            attributed.get(case_of[i]) == placement_of.get(case_of[i]) for i in ids
        ),
        "promises_kept": kept == expected_kept,
        "visits_cancelled_when_paid_up": cancelled == expected_cancelled,
    }
    result = {
        "command": ("DATABASE_URL=<postgres> " if connection.vendor == "postgresql" else "")
        + "python bench/payments.py "
        + " ".join(sys.argv[1:]),
        "database": connection.vendor,
        "lines": args.lines,
        "cases": args.cases,
        "build_seconds": round(build_s, 2),
        "post_seconds": round(first_s, 2),
        "lines_per_second": round(args.lines / first_s),
        "repost_seconds": round(second_s, 2),
        "target": f"{args.lines:,} lines in at most {args.target_seconds:.0f} s, each applied once",
        "within_target": first_s <= args.target_seconds,
        "promises_kept": len(kept),
        "visits_cancelled": len(cancelled),
        "checks": checks,
        "machine": {
            "nproc": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_avg": os.getloadavg(),
            "load_avg_before_post": load_before,
            "load_avg_after_post": load_after_first,
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(
        json.dumps({k: result[k] for k in ("database", "lines", "post_seconds", "repost_seconds", "checks")})
    )
    if not all(checks.values()):
        raise SystemExit(f"the oracle disagrees: {checks}")


if __name__ == "__main__":
    main()
