from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fieldcollect.portfolio import selectors


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "portfolio/overview.html", {"overview": selectors.portfolio_overview()})
