"""Writers at the same moment, for the tests that hold a rule under concurrency (real threads and real
row locks: PostgreSQL, in a transactional test)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections

Job = tuple[Callable[[], Any], Callable[[Any], object]]


def at_once(jobs: list[Job], *, refused: type[Exception], refusal: str, timeout: float = 30) -> list[str]:
    """Run each job ``(read, write)`` in a thread of its own (its own database connection): ``read()``,
    then every thread waits for the others and ``write(what it read)`` at the same moment. The outcomes,
    sorted: ``"ok"`` for a write that went through, ``refusal`` for one that raised ``refused`` (any other
    error leaves its outcome out)."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []

    def run(read: Callable[[], Any], write: Callable[[Any], object]) -> None:
        try:
            value = read()
            barrier.wait(timeout=10)
            write(value)
            outcomes.append("ok")
        except refused:
            outcomes.append(refusal)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return sorted(outcomes)
