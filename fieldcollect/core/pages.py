"""Helpers shared by the page views of every app."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

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
