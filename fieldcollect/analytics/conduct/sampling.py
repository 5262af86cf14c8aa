"""The weekly QA queue (issue 21, item 4), pure: which contacts are reviewed, reproducibly.

Every contact of risk (a trigger: complaint, negative feedback, spoofing flag, automatic finding,
very short visit, refused contacts) is in the queue; besides, a random share of each collector's
other contacts (stratified by collector: at least ``min_per_collector`` when the collector has any),
drawn with a generator seeded from the seed, the week and the collector, so the same inputs give the
same queue whatever the order they come in. A share of the queue is marked for double scoring.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

TRIGGERS: tuple[str, ...] = (
    "complaint",
    "negative_feedback",
    "spoofing_flag",
    "automatic_finding",
    "short_visit",
    "refused_contact",
)


@dataclass(frozen=True)
class Contact:
    contact_id: str
    collector_id: str
    triggers: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueueItem:
    contact_id: str
    collector_id: str
    reason: str  # a trigger, or "random"
    double: bool


def _rng(seed: int, week: str, stratum: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}|{week}|{stratum}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def weekly_queue(contacts: Iterable[Contact], *, week: str, seed: int, share: float = 0.05,
                 min_per_collector: int = 1, double_share: float = 0.1) -> list[QueueItem]:  # fmt: skip
    if not 0 <= share <= 1 or not 0 <= double_share <= 1:
        raise ValueError("share and double_share are fractions between 0 and 1")
    by_collector: dict[str, list[Contact]] = defaultdict(list)
    for c in contacts:
        unknown = set(c.triggers) - set(TRIGGERS)
        if unknown:
            raise ValueError(f"contact {c.contact_id}: unknown triggers {sorted(unknown)}")
        by_collector[c.collector_id].append(c)
    chosen: list[tuple[Contact, str]] = []
    for collector_id in sorted(by_collector):
        mine = sorted(by_collector[collector_id], key=lambda c: c.contact_id)
        risky = [c for c in mine if c.triggers]
        chosen.extend((c, sorted(c.triggers, key=TRIGGERS.index)[0]) for c in risky)
        rest = [c for c in mine if not c.triggers]
        if rest:
            n = min(len(rest), max(min_per_collector, math.ceil(share * len(mine))))
            chosen.extend((c, "random") for c in _rng(seed, week, collector_id).sample(rest, n))
    chosen.sort(key=lambda pair: (pair[0].collector_id, pair[0].contact_id))
    doubles_rng = _rng(seed, week, "double scoring")
    n_double = round(double_share * len(chosen))
    double_ids = {c.contact_id for c, _ in doubles_rng.sample(chosen, n_double)} if n_double else set()
    return [QueueItem(c.contact_id, c.collector_id, reason, c.contact_id in double_ids) for c, reason in chosen]


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Agreement of two reviewers on the same items beyond chance (scikit-learn's cohen_kappa_score);
    ``None`` for fewer than two items; 1.0 when both gave one and the same label throughout."""
    if len(first) != len(second):
        raise ValueError("both reviewers must score the same items")
    if len(first) < 2:
        return None
    if len(set(first) | set(second)) == 1:
        return 1.0
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score(list(first), list(second)))
