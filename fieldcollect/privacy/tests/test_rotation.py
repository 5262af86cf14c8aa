"""Key rotation while the application keeps serving: a reader thread reads every customer again and
again while `fieldcollect keys rotate` runs in another process, and must get the plaintext every time; a writer thread keeps saving
customers meanwhile. Afterwards every value is under the new key and the old key is retired.

Runs in a child process on a real SQLite file (WAL) in a temporary FIELDCOLLECT_HOME, because the test
database of pytest-django is in memory and shared-cache in-memory SQLite is not how the product runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

N_CUSTOMERS = 1_200


def _child() -> None:  # pragma: no cover - runs in the child process
    import subprocess
    import sys
    import threading
    import time

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", interactive=False, verbosity=0)
    from fieldcollect.portfolio.models import Customer
    from fieldcollect.privacy.fields import count_by_key, current_keyring

    expected = {i: (f"客户{i}", f"1380000{i:04d}", f"11010519900101{i:04d}", f"测试路{i}号") for i in range(1, N_CUSTOMERS + 1)}
    Customer.objects.bulk_create([
        Customer(customer_id=i, name=n, mobile=m, id_number=d, province="北京", city="北京", district="朝阳区", address=a)
        for i, (n, m, d, a) in expected.items()
    ], batch_size=500)
    ring = current_keyring()
    old_key = ring.primary_id
    stop = threading.Event()
    stats: dict[str, Any] = {"reads": 0, "bad": 0, "errors": [], "writes": 0}

    def reader() -> None:
        try:
            while not stop.is_set():
                for c in Customer.objects.filter(customer_id__lte=N_CUSTOMERS).iterator(chunk_size=300):
                    stats["reads"] += 1
                    if (c.name, c.mobile, c.id_number, c.address) != expected[c.customer_id]:
                        stats["bad"] += 1
        except Exception as exc:
            stats["errors"].append(repr(exc))
        finally:
            connections.close_all()

    def writer() -> None:
        i = N_CUSTOMERS + 1
        try:
            while not stop.is_set():
                Customer.objects.create(customer_id=i, name=f"新客户{i}", mobile=f"1390000{i:04d}", id_number="",
                                        province="北京", city="北京", district="海淀区", address=f"新路{i}号")
                stats["writes"] += 1
                i += 1
                time.sleep(0.01)
        except Exception as exc:
            stats["errors"].append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    reads_before = stats["reads"]
    # `fieldcollect keys rotate` in its own process, as an operator would run it
    rotation = subprocess.run([sys.executable, "-m", "fieldcollect.cli", "keys", "rotate", "--batch-size", "100"],
                              capture_output=True, text=True, timeout=300)
    reads_during = stats["reads"] - reads_before
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    written = {c.customer_id: (c.name, c.address) for c in Customer.objects.filter(customer_id__gt=N_CUSTOMERS)}
    ring.refresh(force=True)
    out = {
        "old_key": old_key, "new_key": ring.primary_id, "rotate_rc": rotation.returncode,
        "rotate_out": rotation.stdout[-2000:] + rotation.stderr[-2000:],
        "reads_during": reads_during, "counts": count_by_key(Customer),
        "written_ok": all(v == (f"新客户{k}", f"新路{k}号") for k, v in written.items()),
        "states": {k.key_id: k.status for k in ring.data_keys()}, **stats,
    }
    print("RESULT " + json.dumps(out))


@pytest.mark.slow
def test_rotation_with_concurrent_reads_and_writes(fc_home: Path) -> None:
    env = dict(os.environ, FIELDCOLLECT_HOME=str(fc_home), DJANGO_SETTINGS_MODULE="config.settings")
    env.pop("DATABASE_URL", None)
    env.pop("FIELDCOLLECT_MASTER_KEY", None)
    run = subprocess.run([sys.executable, "-c", "from fieldcollect.privacy.tests.test_rotation import _child; _child()"],
                         env=env, capture_output=True, text=True, timeout=600,
                         cwd=Path(__file__).resolve().parents[3])
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    line = next(x for x in run.stdout.splitlines() if x.startswith("RESULT "))
    r = json.loads(line[len("RESULT "):])
    assert r["rotate_rc"] == 0, r["rotate_out"]
    assert f"primary data key {r['new_key']}; retired {r['old_key']}" in r["rotate_out"]
    assert r["errors"] == []
    assert r["bad"] == 0
    assert r["reads_during"] > N_CUSTOMERS  # the reader read every row at least once during the rotation
    assert r["writes"] > 0 and r["written_ok"]
    assert r["states"] == {r["old_key"]: "retired", r["new_key"]: "primary"}
    assert set(r["counts"]) == {r["new_key"]}  # no value left under the old key, none in plaintext
