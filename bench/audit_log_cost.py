"""Cost of one audit_log call (each in its own transaction, as services call it) on the configured
database; run with DATABASE_URL unset (SQLite in a temp home) or set to a PostgreSQL database.

    FIELDCOLLECT_HOME=$(mktemp -d) .venv/bin/python bench/audit_log_cost.py [N] [VERIFY_ENTRIES]

With VERIFY_ENTRIES, also bulk-appends that many entries and times `audit verify` over the chain.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", interactive=False, verbosity=0)
    from fieldcollect.audit.services import audit_log

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    payload = {"status": "placed", "agency": 7, "collector": None, "version": 3, "dpd": 45}
    for _ in range(50):  # warm up
        with transaction.atomic():
            audit_log(actor=None, action="bench.warmup", object_type="case", object_id=1, old=payload, new=payload)
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        with transaction.atomic():
            audit_log(actor=None, action="bench.call", object_type="case", object_id=i, old=payload, new=payload)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    with transaction.atomic():
        for i in range(n):
            audit_log(actor=None, action="bench.batch", object_type="case", object_id=i, old=payload, new=payload)
    batch = (time.perf_counter() - t0) / n
    times.sort()
    verify_entries = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if verify_entries:
        from fieldcollect.audit.models import AuditEntry
        from fieldcollect.audit.verify import audit_verify

        t0 = time.perf_counter()
        for start in range(0, verify_entries, 5000):
            with transaction.atomic():
                AuditEntry.objects.bulk_create([
                    AuditEntry(action="bench.bulk", object_type="case", object_id=str(start + j), old=payload,
                               new=payload) for j in range(min(5000, verify_entries - start))])
        bulk = (time.perf_counter() - t0) / verify_entries
        t0 = time.perf_counter()
        result = audit_verify()
        assert result.ok
        print(f"{connection.vendor}: bulk append {bulk * 1e6:.0f} us per entry; verify {result.entries} entries "
              f"in {time.perf_counter() - t0:.1f} s")
    print(f"{connection.vendor}: n={n} own-transaction median {statistics.median(times) * 1e6:.0f} us, "
          f"p95 {times[int(0.95 * n)] * 1e6:.0f} us; inside one transaction {batch * 1e6:.0f} us per call")


if __name__ == "__main__":
    main()
