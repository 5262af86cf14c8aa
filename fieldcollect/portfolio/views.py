from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from fieldcollect.portfolio import selectors


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    if not getattr(request.user, "is_bank_user", False):
        return redirect("cases:list")
    return render(request, "portfolio/overview.html", {"overview": selectors.portfolio_overview()})
