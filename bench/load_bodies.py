"""Request bodies shared by the load benchmark's locust users and ``bench/request_cost.py``."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

BEIJING = timedelta(hours=8)
CHANNELS = ("phone", "phone", "phone", "sms", "letter")
OUTCOMES = ("no_answer", "no_answer", "refused", "not_home")


def attempt_time(rng: random.Random, days: int = 60) -> str:
    """When the logged attempt happened: a random minute 09:00-19:59 Beijing time on one of the last
    ``days`` days (collectors log the day's attempts; spreading them keeps per-day caps realistic)."""
    day = (datetime.now(UTC) + BEIJING).date() - timedelta(days=rng.randint(1, days))
    local = datetime(day.year, day.month, day.day, rng.randint(9, 19), rng.randint(0, 59), tzinfo=UTC) - BEIJING
    return local.isoformat()


def contact_body(rng: random.Random) -> dict[str, Any]:
    """A logged phone call, text or letter to the debtor."""
    return {"channel": rng.choice(CHANNELS), "outcome": rng.choice(OUTCOMES), "party": "debtor",
            "at": attempt_time(rng), "notes": "load test"}
