"""Reads for the portfolio pages: the latest published nightly run."""

from __future__ import annotations

from typing import Any

from fieldcollect.portfolio.models import DailyRun


def latest_run() -> DailyRun | None:
    return DailyRun.objects.order_by("-as_of", "-id").first()


def portfolio_overview() -> dict[str, Any]:
    run = latest_run()
    return {"run": run, "summary": run.summary if run else {}}
