"""Template filters shared by every page."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """Integer fen as yuan with thousands separators: 123456 -> "1,234.56" (exact, no float)."""
    if fen is None or fen == "":
        return ""
    value = Decimal(int(fen)) / 100
    return f"{value:,.2f}"
