"""Formatting of rates and indices on scorecard, allocation and settlement pages."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def pct(value: float | Decimal | None, digits: int = 1) -> str:
    """0.1234 -> "12.3%"; ``None`` -> "—"."""
    if value is None or value == "":
        return "—"
    return f"{100 * float(value):.{int(digits)}f}%"


@register.filter
def num2(value: float | Decimal | None) -> str:
    """A ratio with two decimals; ``None`` -> "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value):.2f}"
