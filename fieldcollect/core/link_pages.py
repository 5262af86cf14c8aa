"""The customer's pages behind a signed link (no account: :mod:`fieldcollect.core.links`), the one rule of
the plans' agreement pages, the visits' appointment and feedback pages and the complaints' customer
pages: the page opens on the object its link names, or shows the purpose's refused-link page, ``410
Gone`` when the link has expired, the purpose's own status (400 or 404) when it is invalid."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fieldcollect.core.links import LinkError, LinkExpired

__all__ = ["behind_link", "refused_page"]

Refused = Callable[[HttpRequest, LinkError], HttpResponse]


def refused_page(
    request: HttpRequest, exc: LinkError, *, template: str, invalid_status: int,
    context: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """The refused-link page: ``expired`` (status 410) or not (``invalid_status``)."""
    expired = isinstance(exc, LinkExpired)
    return render(request, template, {"expired": expired, **(context or {})}, status=410 if expired else invalid_status)


def behind_link(
    resolve: Callable[[str], Any], refused: Refused
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a view ``(request, token, obj, **url_kwargs)``: ``obj`` is ``resolve(token)``; a link
    that ``resolve`` refuses (:class:`LinkError`) gets ``refused(request, exc)`` instead."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def page(request: HttpRequest, token: str, **kwargs: Any) -> HttpResponse:
            try:
                obj = resolve(token)
            except LinkError as exc:
                return refused(request, exc)
            return view(request, token, obj, **kwargs)

        return page

    return decorator
