"""Small view helpers shared by the scorecards, allocation and settlement pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from fieldcollect.core import params
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User


def user_of(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def errors_as_pages(fn: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn :class:`ApplicationError` (404, 403, 400...) into the error page with its status."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return fn(request, *args, **kwargs)
        except ApplicationError as exc:
            return render(request, "error.html", {"message": exc.message}, status=exc.status_code)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


class MonthParams(params.QueryForm):
    month = params.MonthParam()


def month_param(request: HttpRequest, default: date | None = None) -> date:
    """``?month=YYYY-MM`` (default: the previous month, the last complete one); a value that is not a
    month raises ``InvalidParameters`` (400)."""
    month = MonthParams.parse(request.GET).get("month") or MonthParams.parse(request.POST).get("month")
    if month is not None:
        return month
    if default is not None:
        return default
    first = timezone.localdate().replace(day=1)
    return date(first.year - (first.month == 1), 12 if first.month == 1 else first.month - 1, 1)
