"""Calendar arithmetic shared by the nightly cycle, the features, the early-warning snapshots and the
repayment schedules (pure Python, no Django)."""

from __future__ import annotations

import calendar
from datetime import date

__all__ = ["add_months"]


def add_months(start: date, months: int) -> date:
    """``start`` plus ``months`` calendar months, same day of month, clamped to the month's last day."""
    index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(index, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(start.day, last_day))
