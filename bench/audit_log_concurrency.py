"""Throughput of audited writes from concurrent writers on PostgreSQL: THREADS threads, each running
N short transactions (one row written + one audit_log, as a service does). The chain head is locked
from the audit until commit, so audited commits are serialised; this measures what that costs.

    DATABASE_URL=postgres://... FIELDCOLLECT_HOME=$(mktemp -d) .venv/bin/python bench/audit_log_concurrency.py [THREADS] [N]
"""

from __future__ import annotations

import os
import sys
import threading
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections, transaction

    call_command("migrate", interactive=False, verbosity=0)
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from fieldcollect.audit.services import audit_log

    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    payload = {"status": "placed", "agency": 7, "version": 3}

    def work(k: int) -> None:
        try:
            for i in range(n):
                with transaction.atomic():
                    Session.objects.create(session_key=f"bench-{k}-{i}", session_data="x",  # the service's own write
                                           expire_date=timezone.now())
                    audit_log(actor=None, action="bench.concurrent", object_type="case", object_id=f"{k}-{i}",
                              new=payload)
        finally:
            connections.close_all()

    t0 = time.perf_counter()
    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - t0
    print(f"{connection.vendor}: {threads} writers x {n} audited transactions: {threads * n / wall:.0f} tx/s "
          f"({wall:.1f} s)")
    # the oracle: every audited write is in the chain, and the chain verifies (no fork under concurrency)
    from fieldcollect.audit.models import AuditEntry
    from fieldcollect.audit.verify import audit_verify

    written = AuditEntry.objects.filter(action="bench.concurrent").count()
    result = audit_verify()
    if written != threads * n or not result.ok:
        raise SystemExit(f"audit chain: {written} of {threads * n} entries, verified: {result.ok}")
    print(f"chain verified: {written} entries written, {result.entries} in the chain")


if __name__ == "__main__":
    main()
