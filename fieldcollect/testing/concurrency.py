"""Writers at the same moment, for the tests that hold a rule under concurrency (real threads and real
row locks: PostgreSQL, in a transactional test)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connections

Job = tuple[Callable[[], Any], Callable[[Any], object]]


@dataclass(frozen=True)
class Outcome:
    """What a job's write returned, or what it (or its read) raised."""

    value: Any = None
    error: BaseException | None = None


def together(jobs: list[Job], *, timeout: float = 30) -> list[Outcome]:
    """Run each job ``(read, write)`` in a thread of its own (its own database connection): ``read()``,
    then every thread waits for the others and ``write(what it read)`` at the same moment. The outcomes
    in the order the threads finished (a thread still running after ``timeout`` seconds has none)."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[Outcome] = []

    def run(read: Callable[[], Any], write: Callable[[Any], object]) -> None:
        try:
            value = read()
            barrier.wait(timeout=10)
            outcomes.append(Outcome(value=write(value)))
        except BaseException as exc:  # the caller's assertions report it
            outcomes.append(Outcome(error=exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return outcomes


def at_once(jobs: list[Job], *, refused: type[Exception], refusal: str, timeout: float = 30) -> list[str]:
    """The jobs run :func:`together`; their outcomes, sorted: ``"ok"`` for a write that went through,
    ``refusal`` for one that raised ``refused`` (any other error leaves its outcome out)."""
    return sorted(
        "ok" if o.error is None else refusal
        for o in together(jobs, timeout=timeout)
        if o.error is None or isinstance(o.error, refused)
    )


@contextmanager
def in_background(work: Callable[[], object], *, stop: Callable[[], object],
                  timeout: float | None = None) -> Iterator[threading.Thread]:
    """``work()`` in a thread of its own (its own database connection, closed when it ends) while the
    block runs; then, however the block ends, ``stop()`` and wait for the thread (at most ``timeout``
    seconds when given)."""

    def run() -> None:
        try:
            work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield thread
    finally:
        stop()
        thread.join(timeout=timeout)
