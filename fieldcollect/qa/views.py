"""Pages of quality inspection: the review page of a recording (player, transcript with the findings
at their time, the pack's scoring form, verdict and confirmed findings) and an agency's training and
certification report. Thin: the rules are the services'."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Agency
from fieldcollect.analytics.conduct import CATEGORIES
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User
from fieldcollect.qa import reviews, services, training
from fieldcollect.qa.models import Recording, ScoringForm


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _recording(request: HttpRequest, recording_id: int) -> Recording:
    rec = Recording.objects.select_related("collector", "agency").filter(pk=recording_id).first()
    if rec is None or not services.may_play(_user(request), rec):
        raise Http404
    return rec


@login_required
def review(request: HttpRequest, recording_id: int) -> HttpResponse:
    rec = _recording(request, recording_id)
    user = _user(request)
    form = ScoringForm.objects.filter(pack=rec.pack).order_by("-version").first()
    error = ""
    if request.method == "POST":
        if form is None:
            raise Http404
        answers = {str(i["id"]): request.POST.get(f"item_{i['id']}") == "on" for i in form.items}
        confirmed = [{"category": c, "severity": request.POST.get(f"severity_{c}", "major")}
                     for c in request.POST.getlist("confirm") if c in CATEGORIES]  # fmt: skip
        try:
            reviews.review_submit(recording=rec, reviewer=user, form=form, answers=answers,
                                  verdict=request.POST.get("verdict", ""), confirmed=confirmed)  # fmt: skip
            return redirect("qa:review", recording_id=rec.pk)
        except ApplicationError as exc:
            error = exc.message
    transcript = getattr(rec, "transcript", None) if hasattr(rec, "transcript") else None
    segments: list[dict[str, Any]] = []
    findings = []
    if transcript is not None:
        segments = json.loads(transcript.segments)
        findings = list(transcript.findings.all())
        by_segment: dict[int, list[Any]] = {}
        for fd in findings:
            if fd.segment_index is not None:
                by_segment.setdefault(fd.segment_index, []).append(fd)
        for i, seg in enumerate(segments):
            seg["findings"] = by_segment.get(i, [])
    return render(request, "qa/review.html", {
        "rec": rec, "segments": segments, "findings": findings,
        "missing": [fd for fd in findings if fd.segment_index is None], "form": form,
        "reviews": rec.reviews.select_related("reviewer").all(), "categories": CATEGORIES,
        "can_review": reviews._is_reviewer(user), "held": services.held(rec), "error": error,
    })  # fmt: skip


@login_required
def training_report(request: HttpRequest, agency_id: int) -> HttpResponse:
    user = _user(request)
    if not (
        user.is_bank_user
        or (user.is_agency_user and user.agency_id == agency_id and user.role == "agency_manager")
    ):
        raise Http404
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        raise Http404
    today = timezone.localdate()
    rows = training.agency_training_report(agency=agency, as_of=today)
    return render(request, "qa/training.html", {
        "agency": agency, "rows": rows, "today": today,
        "summary": {"collectors": len(rows), "qualified": sum(r.qualified for r in rows),
                    "expiring": sum(r.expiring_soon for r in rows), "suspended": sum(r.suspended for r in rows)},
        "title": _("Training and certification"),
    })  # fmt: skip
