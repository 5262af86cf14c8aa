"""One bank time-zone setting (``BANK_TIME_ZONE``), read through ``fieldcollect.core.bank_time``; the
debtor's own zone still wins wherever it is known."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from fieldcollect.core.bank_time import bank_time_zone, bank_time_zone_name, bank_today
from fieldcollect.earlywarning.services import REMINDER_HOUR, _local_send_at
from fieldcollect.portfolio.models import Customer

REPO = Path(__file__).resolve().parents[3]


def test_the_zone_name_is_written_once_in_the_code() -> None:
    """Outside the settings, tests and test support, migrations and the synthetic route benchmark, no
    module holds the zone as a string (a help text may still give it as an example)."""
    named = sorted(str(p.relative_to(REPO)) for folder in ("fieldcollect", "config", "bench")
                   for p in (REPO / folder).rglob("*.py")
                   if "tests" not in p.parts and "testing" not in p.parts and "migrations" not in p.parts
                   and re.search(r"[\"']Asia/Shanghai[\"']", p.read_text(encoding="utf-8")))
    assert named == ["bench/route_day.py", "config/settings.py"]


def test_default_is_the_django_time_zone(settings) -> None:
    assert settings.BANK_TIME_ZONE == settings.TIME_ZONE == "Asia/Shanghai"
    assert bank_time_zone() == ZoneInfo("Asia/Shanghai")


def test_the_setting_moves_the_bank_day_and_the_fallback(settings) -> None:
    settings.BANK_TIME_ZONE = "America/New_York"
    assert bank_time_zone_name() == "America/New_York"
    assert bank_today() == timezone.localdate(timezone=ZoneInfo("America/New_York"))
    assert Customer().timezone == "America/New_York"  # a new customer's zone
    # a customer without a zone: the bank's
    assert _local_send_at(date(2026, 6, 1), "") == datetime(2026, 6, 1, REMINDER_HOUR,
                                                              tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


@pytest.mark.parametrize("bank", ["Asia/Shanghai", "America/New_York"])
def test_the_debtors_zone_wins(settings, bank: str) -> None:
    settings.BANK_TIME_ZONE = bank
    assert _local_send_at(date(2026, 6, 1), "Asia/Urumqi") == datetime(
        2026, 6, 1, REMINDER_HOUR, tzinfo=ZoneInfo("Asia/Urumqi")).astimezone(UTC)
