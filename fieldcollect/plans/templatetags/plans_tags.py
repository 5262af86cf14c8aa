"""Template filters of the plans pages."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()


@register.filter
def pct(share: Decimal | str | None, places: int = 2) -> str:
    """A share as a percentage: Decimal("0.0163") → "1.63%" (exact, half-up)."""
    if share is None or share == "":
        return ""
    value = (Decimal(str(share)) * 100).quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)
    return f"{value}%"
