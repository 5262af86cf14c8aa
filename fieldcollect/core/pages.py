"""Helpers shared by the page views of every app."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

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


def page_view(fn: Callable[..., R]) -> Callable[..., R | HttpResponse]:
    """A page: login required, an ApplicationError rendered as the error page (:func:`errors_as_pages`)."""
    return login_required(errors_as_pages(fn))


def post_view(fn: Callable[..., R]) -> Callable[..., R | HttpResponse]:
    """A form's POST target: login required, POST only (405 otherwise), errors as pages."""
    return login_required(require_POST(errors_as_pages(fn)))


@contextmanager
def errors_as_messages(request: HttpRequest, *shown: int) -> Iterator[None]:
    """Around a form's write: an ApplicationError with one of the ``shown`` statuses (none given: any
    below 500 but 403 and 404) becomes an error message on the next page; any other propagates (the
    view's :func:`errors_as_pages` renders it)."""
    try:
        yield
    except ApplicationError as exc:
        if not (exc.status_code in shown if shown else exc.status_code < 500 and exc.status_code not in {403, 404}):
            raise
        messages.error(request, exc.message)


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
