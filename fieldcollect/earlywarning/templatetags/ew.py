"""Number formats of the early-warning pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def pct(value: Any, digits: int = 1) -> str:
    """0.1234 -> "12.3%" (empty for None)."""
    if value is None or value == "":
        return ""
    return f"{100 * float(value):.{int(digits)}f}%"


@register.filter
def num(value: Any, digits: int = 3) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value):.{int(digits)}f}"


@register.filter
def cny(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value):,.0f}"
