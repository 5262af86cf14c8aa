"""Step timings of long jobs (the nightly cycle): the wall time of each step, by name.

    timings: Timings = {}
    with step(timings, "cases_sync_s"):
        ...

A function that runs several steps takes ``timings: Timings | None = None`` and times each of them
with :func:`step`; ``None`` (the callers that do not ask) times nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

Timings = dict[str, float]


@contextmanager
def step(timings: Timings | None, name: str) -> Iterator[None]:
    """Add the wall time of the block (seconds) to ``timings[name]``; nothing when ``timings`` is ``None``."""
    if timings is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started
