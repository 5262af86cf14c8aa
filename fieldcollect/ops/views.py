"""The jobs page: bank users see background jobs with live progress; a collections manager can
start the nightly cycle, an export or the monthly management report from it, and download the file a
finished job of theirs wrote (it is fingerprinted for them)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from fieldcollect.audit.services import audit_log
from fieldcollect.core.errors import ApplicationError
from fieldcollect.daily.guard import business_date_check
from fieldcollect.ops.backup import sha256_file
from fieldcollect.ops.exports import exports_dir
from fieldcollect.ops.jobs import enqueue
from fieldcollect.ops.models import Job, JobStatus
from fieldcollect.privacy.case_export import stated_purpose
from fieldcollect.reports.management import normalise_lang

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


def _refused(request: HttpRequest, *, field: str, message: str) -> HttpResponse:
    """A start refused with its reason: 400 with the page, or for htmx (which swaps no 4xx answer) the
    reason in the alert above the forms."""
    refusal = {"form_error": field, "form_message": message}
    if request.htmx:  # type: ignore[attr-defined]
        return reswap(retarget(render(request, "ops/_job_alert.html", refusal), "#job-alert"), "innerHTML")
    return render(request, "ops/jobs.html", _context(request) | refusal, status=400)


def _unreadable(request: HttpRequest, field: str) -> HttpResponse:
    """The page again (400), naming the field whose value could not be read."""
    return render(request, "ops/jobs.html", _context(request) | {"form_error": field}, status=400)


def _posted_date(request: HttpRequest, field: str) -> date | None:
    """The posted ``YYYY-MM-DD`` date in ``field`` (``None`` if missing or not a date)."""
    try:
        return date.fromisoformat(request.POST.get(field, ""))
    except ValueError:
        return None


@login_required
@require_POST
def job_start(request: HttpRequest) -> HttpResponse:
    _bank_user(request)
    if not _can_start(request):
        raise PermissionDenied
    kind = request.POST.get("kind", "")
    if kind == "nightly_cycle":
        as_of = _posted_date(request, "as_of")
        if as_of is None:
            return _unreadable(request, "as_of")
        try:
            business_date_check(as_of=as_of)  # the cycle checks again when it runs
        except ApplicationError as exc:
            return _refused(request, field="as_of", message=exc.message)
        enqueue(kind="nightly_cycle", params={"as_of": as_of.isoformat()}, created_by=request.user)
    elif kind == "export":
        try:
            purpose = stated_purpose(request.POST.get("purpose", ""))
        except ApplicationError as exc:
            return _refused(request, field="purpose", message=exc.message)
        enqueue(kind="export", params={"recipient_id": request.user.pk, "purpose": purpose}, created_by=request.user)
    elif kind == "management_report":
        as_of = _posted_date(request, "as_of")
        if as_of is None:
            return _unreadable(request, "as_of")
        try:
            lang = normalise_lang(request.POST.get("lang", "zh-hans"))
        except ValueError:
            return _unreadable(request, "lang")
        enqueue(kind="management_report", params={"as_of": as_of.isoformat(), "lang": lang}, created_by=request.user)
    else:
        return _unreadable(request, "kind")
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "ops/_job_rows.html", _context(request))
    return redirect("ops:jobs")


@login_required
@require_GET
def job_file(request: HttpRequest, job_id: int) -> FileResponse:
    """The file a finished job wrote, to the user who started it (exports are fingerprinted for them),
    if it still lies in the exports folder unchanged (its SHA-256 is the one the job recorded). Audited."""
    _bank_user(request)
    job = get_object_or_404(Job, pk=job_id)
    if job.created_by_id != request.user.pk:
        raise PermissionDenied
    result = job.result or {}
    raw = result.get("path") if job.status == JobStatus.DONE else None
    if not raw:
        raise Http404(_("This job has no file."))
    path = Path(raw).resolve()
    if path.parent != exports_dir().resolve() or not path.is_file():
        raise Http404(_("The file of this job is no longer in the exports folder."))
    sha256 = sha256_file(path)
    if sha256 != result.get("sha256"):
        raise Http404(_("The file of this job was changed after the job wrote it."))
    with transaction.atomic():
        audit_log(actor=request.user, action="export.download", object_type="job", object_id=job.pk,  # type: ignore[arg-type]
                  new={"kind": job.kind, "file": path.name, "sha256": sha256})
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)
