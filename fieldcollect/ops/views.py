"""The jobs page: bank users see background jobs with live progress; a collections manager can
start the nightly cycle or an export from it."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fieldcollect.ops.jobs import enqueue
from fieldcollect.ops.models import Job, JobStatus

PAGE = 50


def _bank_user(request: HttpRequest) -> None:
    user = request.user
    if not (getattr(user, "is_bank_user", False) or getattr(user, "is_superuser", False)):
        raise PermissionDenied


def _can_start(request: HttpRequest) -> bool:
    user = request.user
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") == "collections_manager")


def _context(request: HttpRequest) -> dict[str, object]:
    jobs = list(Job.objects.order_by("-id")[:PAGE])
    active = any(j.status in (JobStatus.QUEUED, JobStatus.RUNNING) for j in jobs)
    return {"jobs": jobs, "active": active, "can_start": _can_start(request)}


@login_required
def jobs_page(request: HttpRequest) -> HttpResponse:
    _bank_user(request)
    return render(request, "ops/jobs.html", _context(request))


@login_required
def jobs_rows(request: HttpRequest) -> HttpResponse:
    _bank_user(request)
    return render(request, "ops/_job_rows.html", _context(request))


@login_required
@require_POST
def job_start(request: HttpRequest) -> HttpResponse:
    _bank_user(request)
    if not _can_start(request):
        raise PermissionDenied
    kind = request.POST.get("kind", "")
    if kind == "nightly_cycle":
        try:
            as_of = date.fromisoformat(request.POST.get("as_of", ""))
        except ValueError:
            return render(request, "ops/jobs.html", _context(request) | {"form_error": "as_of"}, status=400)
        enqueue(kind="nightly_cycle", params={"as_of": as_of.isoformat()}, created_by=request.user)
    elif kind == "export":
        enqueue(kind="export", params={"recipient_id": request.user.pk}, created_by=request.user)
    else:
        return render(request, "ops/jobs.html", _context(request) | {"form_error": "kind"}, status=400)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "ops/_job_rows.html", _context(request))
    return redirect("ops:jobs")
