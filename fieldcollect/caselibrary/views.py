"""Case library pages: search, read, write from a closed case or from scratch, edit."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from fieldcollect.caselibrary import selectors, services
from fieldcollect.caselibrary.forms import StoryForm
from fieldcollect.caselibrary.models import AmountBand, Result, StoryChannel
from fieldcollect.cases.access import access_case_by_id
from fieldcollect.core import params
from fieldcollect.core.denials import require_role
from fieldcollect.core.pages import page_view, request_user


def _require_reader(request: HttpRequest) -> None:
    user = request_user(request)
    require_role(selectors.can_read(user))


class ListParams(params.QueryForm):
    q = params.TextParam(max_length=200)
    result = params.TextParam(max_length=32)
    bucket = params.TextParam(max_length=16)
    amount_band = params.TextParam(max_length=32)
    channel = params.TextParam(max_length=32)
    tag = params.TextParam(max_length=40)


class CaseParams(params.QueryForm):
    case = params.IdParam()  # a story started from a closed case


@page_view
def story_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    user = request_user(request)
    g = ListParams.parse(request.GET)
    filters = selectors.StoryFilters(q=g["q"], result=g["result"], bucket=g["bucket"], amount_band=g["amount_band"],
                                     channel=g["channel"], tag=g["tag"])
    return render(request, "caselibrary/list.html", {
        "stories": selectors.story_search(user=user, filters=filters), "f": filters,
        "results": Result.choices, "bands": AmountBand.choices, "channels": StoryChannel.choices,
        "buckets": ["M1", "M2", "M3", "M4", "M5", "M6", "M6+"], "tags": selectors.tag_counts(user=user),
        "counts": selectors.result_counts(user=user), "can_write": services.can_write(user)})


@page_view
def story_detail(request: HttpRequest, story_id: int) -> HttpResponse:
    _require_reader(request)
    story = selectors.access_story_by_id(story_id, request_user(request))
    return render(request, "caselibrary/detail.html",
                  {"s": story, "can_edit": services.can_edit(request_user(request), story)})


@page_view
def story_new(request: HttpRequest) -> HttpResponse:
    """Write a story; ``?case=<id>`` starts from a closed case (prefilled with its timeline)."""
    user = request_user(request)
    require_role(services.can_write(user))
    case = None
    case_id = CaseParams.parse(request.POST)["case"] or CaseParams.parse(request.GET)["case"]
    if case_id is not None:
        case = access_case_by_id(case_id, user)
    if request.method == "POST":
        form = StoryForm(request.POST)
        if form.is_valid():
            story = services.story_create(values=form.cleaned_data, acting_user=user, case=case)
            messages.success(request, _("Story saved."))
            return redirect("caselibrary:detail", story_id=story.pk)
    else:
        initial = services.story_prefill(case=case) if case is not None else {}
        form = StoryForm(initial=initial)
    return render(request, "caselibrary/form.html", {"form": form, "case": case, "story": None})


@page_view
def story_edit(request: HttpRequest, story_id: int) -> HttpResponse:
    user = request_user(request)
    story = selectors.access_story_by_id(story_id, user)
    require_role(services.can_edit(user, story))
    if request.method == "POST":
        form = StoryForm(request.POST)
        if form.is_valid():
            services.story_update(story=story, values=form.cleaned_data, acting_user=user)
            messages.success(request, _("Story saved."))
            return redirect("caselibrary:detail", story_id=story.pk)
    else:
        form = StoryForm(initial={k: getattr(story, k) for k in services.EDITABLE} | {"tags": ", ".join(story.tags)})
    return render(request, "caselibrary/form.html", {"form": form, "case": story.case, "story": story})
