"""Stable error codes of the daily cycle domain (API clients match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class DailyErrorCode(StrEnum):
    ALREADY_RUNNING = "daily.already_running"
    DATE_AFTER_DATA = "daily.date_after_data"
    DATE_IN_FUTURE = "daily.date_in_future"
