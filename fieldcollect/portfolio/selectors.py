"""Reads for the portfolio pages: the latest published nightly run and its files."""

from __future__ import annotations

from typing import Any

import polars as pl

from fieldcollect.daily.cycle import published_path
from fieldcollect.portfolio import charts
from fieldcollect.portfolio.models import Customer, DailyRun
from fieldcollect.privacy.fields import blind_index


def latest_run() -> DailyRun | None:
    return DailyRun.objects.order_by("-as_of", "-id").first()


def overdue_history(limit: int = 90) -> list[dict[str, Any]]:
    """One point per business date (the newest run of each date)."""
    seen: dict[str, dict[str, Any]] = {}
    for run in DailyRun.objects.order_by("-as_of", "-id")[: limit * 3]:
        key = run.as_of.isoformat()
        if key not in seen:
            seen[key] = {"as_of": key, "share": run.summary.get("balance_30plus_share", 0.0)}
    return sorted(seen.values(), key=lambda p: p["as_of"])[-limit:]


def portfolio_overview() -> dict[str, Any]:
    run = latest_run()
    if run is None:
        return {"run": None}
    summary = run.summary
    folder = published_path(run.as_of)
    figures: dict[str, str] = {}
    buckets = summary.get("buckets", [])
    order = [b["bucket"] for b in buckets]
    figures["buckets"] = charts.to_json(charts.bucket_distribution(buckets))
    if (folder / "roll_rates.parquet").exists():
        figures["roll"] = charts.to_json(charts.roll_rate_heatmap(pl.read_parquet(folder / "roll_rates.parquet"),
                                                                  order))
    if (folder / "vintages.parquet").exists():
        figures["vintages"] = charts.to_json(charts.vintage_curves(pl.read_parquet(folder / "vintages.parquet")))
    figures["trend"] = charts.to_json(charts.overdue_trend(overdue_history()))
    total = summary.get("outstanding_principal_fen", 0)
    rows = [b | {"pct": f"{100 * b['balance_fen'] / total:.2f}%" if total else "-"} for b in buckets]
    pct = f"{100 * summary.get('balance_30plus_share', 0.0):.2f}%"
    return {"run": run, "summary": summary, "figures": figures, "bucket_rows": rows, "pct_30plus": pct}


def customer_find(*, mobile: str | None = None, id_number: str | None = None) -> list[Customer]:
    """Customers with this mobile and/or ID number (exact match after normalisation), through the
    blind indexes: the encrypted columns are never compared. No criterion gives no customers."""
    qs = Customer.objects.all()
    if not mobile and not id_number:
        return []
    if mobile:
        key = blind_index(mobile, "phone")
        if not key:
            return []
        qs = qs.filter(mobile_bidx=key)
    if id_number:
        key = blind_index(id_number, "id_number")
        if not key:
            return []
        qs = qs.filter(id_number_bidx=key)
    return list(qs.order_by("customer_id")[:100])
