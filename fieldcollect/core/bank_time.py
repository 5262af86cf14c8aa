"""The bank's time zone: one setting, ``BANK_TIME_ZONE`` (default ``TIME_ZONE``), read here only.

The bank's business day (the nightly cycle's date) is counted in this zone. Contact rules use the
debtor's own zone (``Customer.timezone``); the bank's zone is only the zone of a new customer and the
fallback for a customer whose zone is blank. The pure libraries (analytics, optimisation, scoring) do
not read it: they take timezone-aware datetimes from their callers.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def bank_time_zone_name() -> str:
    """The IANA name of the bank's time zone (``settings.BANK_TIME_ZONE``)."""
    return str(settings.BANK_TIME_ZONE)


def bank_time_zone() -> ZoneInfo:
    """The bank's time zone."""
    return ZoneInfo(bank_time_zone_name())


def bank_today() -> date:
    """Today in the bank's time zone, whatever time zone the request or the machine uses."""
    return timezone.localdate(timezone=bank_time_zone())
