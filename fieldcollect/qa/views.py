"""Pages of quality inspection: the review page of a recording (player, transcript with the findings
at their time, the pack's scoring form, verdict and confirmed findings), an agency's training and
certification report, the weekly QA queue, the reviewers' agreement, the appeals of confirmed findings
and the conduct dashboard. Thin: the rules are the services' and selectors'.

Who sees what: bank QA (compliance officers) every agency; an agency's manager its own agency's
queue, findings, appeals and dashboard; the reviewers' agreement is bank QA's only. Anyone else: 404."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldcollect.agencies.models import Agency
from fieldcollect.analytics.conduct import CATEGORIES
from fieldcollect.core import params
from fieldcollect.core.bank_time import bank_today
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User
from fieldcollect.core.pages import errors_as_pages
from fieldcollect.portfolio.charts import to_json
from fieldcollect.qa import charts, reviews, selectors, services, training
from fieldcollect.qa.errors import QaErrorCode
from fieldcollect.qa.models import ConfirmedFinding, Recording, Review, ScoringForm


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


def _qa_viewer(request: HttpRequest) -> User:
    """The user of a QA page that bank QA and the agencies' managers see (anyone else: 404)."""
    user = _user(request)
    if not (selectors.is_bank_qa(user) or selectors.is_agency_qa(user)):
        raise Http404
    return user


def _week_page(request: HttpRequest, query: type[params.QueryForm]) -> tuple[User, dict[str, Any], date]:
    """A QA page of a week: its viewer (:func:`_qa_viewer`), its ``query`` parameters and the Monday of
    the week it shows (the ``week`` asked for, or this bank week)."""
    user = _qa_viewer(request)
    p = query.parse(request.GET)
    return user, p, p["week"] or selectors.week_monday(bank_today())


def _agencies_for(user: User) -> list[Agency]:
    qs = Agency.objects.order_by("agency_id")
    return list(qs if selectors.is_bank_qa(user) else qs.filter(pk=int(user.agency_id or 0)))


class QueueParams(params.QueryForm):
    week = params.WeekParam()
    agency = params.IdParam()


@login_required
@errors_as_pages
def queue(request: HttpRequest) -> HttpResponse:
    """The week's QA queue: the sampled and triggered recordings, each linked to its review page."""
    user, p, monday = _week_page(request, QueueParams)
    rows = selectors.weekly_queue_rows(user=user, monday=monday, agency_id=p["agency"])
    return render(request, "qa/queue.html", {
        "rows": rows, "week": selectors.iso_week(monday), "agency_id": p["agency"], "agencies": _agencies_for(user),
        "previous": selectors.iso_week(monday - timedelta(weeks=1)), "next": selectors.iso_week(monday + timedelta(weeks=1)),
        "reviewed": sum(1 for r in rows if r.reviews), "title": _("Weekly QA queue"),
    })  # fmt: skip


@login_required
@errors_as_pages
def agreement(request: HttpRequest) -> HttpResponse:
    """Cohen's kappa of each reviewer's verdicts against the second reviewer's on recordings scored twice."""
    user = _user(request)
    if not selectors.is_bank_qa(user):
        raise Http404
    stats = reviews.reviewer_agreement()
    counts = dict(Review.objects.order_by().values("reviewer_id").annotate(n=Count("id")).values_list("reviewer_id", "n"))
    people = {u.pk: u for u in User.objects.filter(pk__in=set(counts) | set(stats))}
    rows = [{"reviewer": people[uid], "reviews": counts.get(uid, 0),
             "double_scored": stats.get(uid, {}).get("double_scored", 0), "kappa": stats.get(uid, {}).get("kappa")}
            for uid in sorted(people, key=lambda k: people[k].username)]  # fmt: skip
    return render(request, "qa/agreement.html", {"rows": rows, "title": _("Reviewer agreement")})


class AppealParams(params.QueryForm):
    state = params.ChoiceParam(choices=[(s, s) for s in selectors.APPEAL_FILTERS])
    agency = params.IdParam()


class AppealPost(params.QueryForm):
    finding = params.IdParam(required=True)
    action = params.ChoiceParam(choices=[("file", "file"), ("propose", "propose"), ("approve", "approve")], required=True)
    decision = params.ChoiceParam(choices=[("upheld", "upheld"), ("rejected", "rejected")])
    reason = params.TextParam(max_length=2000)


@login_required
@errors_as_pages
def appeals(request: HttpRequest) -> HttpResponse:
    """Confirmed findings and their appeals: the agency's manager lodges one with a reason; at the bank
    one compliance officer proposes upheld or rejected (maker) and another approves it (checker)."""
    user = _qa_viewer(request)
    if request.method == "POST":
        p = AppealPost.parse(request.POST)
        finding = selectors.findings_visible_to(user).filter(pk=p["finding"]).first()
        if finding is None:
            raise Http404
        try:
            if p["action"] == "file":
                reason = (p["reason"] or "").strip()
                if not reason:
                    raise ApplicationError(_("Give the reason of the appeal."), code=QaErrorCode.APPEAL_REASON)
                reviews.appeal_file(finding=finding, acting_user=user, reason=reason)
                messages.success(request, _("Appeal lodged."))
            elif p["action"] == "propose":
                reviews.appeal_propose(finding=finding, acting_user=user, decision=p["decision"] or "")
                messages.success(request, _("Decision proposed; another compliance officer approves it."))
            else:
                reviews.appeal_approve(finding=finding, acting_user=user)
                messages.success(request, _("Decision approved."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect(f"{request.path}?state=all")
    q = AppealParams.parse(request.GET)
    state = q["state"] or "open"
    findings = list(selectors.appeal_list(user=user, state=state, agency_id=q["agency"])[:500])
    return render(request, "qa/appeals.html", {
        "findings": findings, "state": state, "states": selectors.APPEAL_FILTERS, "agency_id": q["agency"],
        "agencies": _agencies_for(user), "bank_qa": selectors.is_bank_qa(user),
        "agency_manager": selectors.is_agency_qa(user), "me": user.pk, "Appeal": ConfirmedFinding.Appeal,
        "title": _("Appeals of QA findings"),
    })  # fmt: skip


class DashboardParams(params.QueryForm):
    week = params.WeekParam()
    weeks = params.IntParam(min_value=1, max_value=52)


@login_required
@errors_as_pages
def dashboard(request: HttpRequest) -> HttpResponse:
    """Confirmed findings per 1,000 contacts by agency and category, and the weekly trend."""
    user, p, monday = _week_page(request, DashboardParams)
    weeks = p["weeks"] or 8
    data = selectors.conduct_dashboard(user=user, last_monday=monday, weeks=weeks)
    figures = {"agencies": to_json(charts.findings_by_agency(data)), "trend": to_json(charts.weekly_trend(data))}
    rows = [{"agency": data.agencies[a], "contacts": data.contacts.get(a, 0), "findings": data.findings.get(a, 0),
             "per_1k": round(sum(data.by_category.get(a, {}).values()), 3) if a in data.by_category else None,
             "by_category": [data.by_category.get(a, {}).get(c, 0.0) for c in data.categories]}
            for a in data.agencies]  # fmt: skip
    return render(request, "qa/dashboard.html", {
        "data": data, "rows": rows, "figures": figures, "week": selectors.iso_week(monday), "weeks": weeks,
        "title": _("Conduct: findings per 1,000 contacts"),
    })  # fmt: skip
