"""Helpers shared by the page views of every app."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone

from fieldcollect.core import params
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User


def request_user(request: HttpRequest) -> User:
    """The authenticated user of a login-required view."""
    return request.user  # type: ignore[return-value]


R = TypeVar("R", bound=HttpResponseBase)


def errors_as_pages(fn: Callable[..., R]) -> Callable[..., R | HttpResponse]:
    """Render an ApplicationError raised by a view as the error page with its status code (the view may
    answer with any response, e.g. a streamed file)."""

    @functools.wraps(fn)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> R | HttpResponse:
        try:
            return fn(request, *args, **kwargs)
        except ApplicationError as exc:
            return render(request, "error.html", {"message": exc.message}, status=exc.status_code)

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
