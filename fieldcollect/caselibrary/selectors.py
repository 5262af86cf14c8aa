"""Reads on the case library: search (text and filters) and facets.

Text search: every word of the query must appear (case-insensitive) in the title, the story fields
or the tags. ``icontains`` works for Chinese text on SQLite and PostgreSQL alike (PostgreSQL's
full-text parsers do not split Chinese words); on PostgreSQL the English words are also matched
through an ``english`` full-text vector so that word forms ("visits" / "visit") are found.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from fieldcollect.caselibrary.errors import StoryErrorCode
from fieldcollect.caselibrary.models import CaseStory
from fieldcollect.core.errors import NotFoundError
from fieldcollect.core.models import User

TEXT_FIELDS = ("title", "situation", "what_was_tried", "what_worked", "lessons")


@dataclass(frozen=True)
class StoryFilters:
    q: str = ""
    result: str = ""
    bucket: str = ""
    amount_band: str = ""
    channel: str = ""
    tag: str = ""


def can_read(user: User) -> bool:
    """Whether ``user`` may read the case library: the bank's staff and the agencies' managers."""
    return user.is_authenticated and user.is_active and (user.is_bank_user or user.role == "agency_manager")


def stories_visible_to(user: User) -> QuerySet[CaseStory]:
    if can_read(user):
        return CaseStory.objects.all()
    return CaseStory.objects.none()


def access_story_by_id(story_id: int, user: User) -> CaseStory:
    story = stories_visible_to(user).select_related("case", "agency", "created_by").filter(pk=story_id).first()
    if story is None:
        raise NotFoundError(_("Story not found."), code=StoryErrorCode.NOT_FOUND)
    return story


def _word(word: str) -> Q:
    q = Q()
    for f in TEXT_FIELDS:
        q |= Q(**{f"{f}__icontains": word})
    q |= Q(tags_text__icontains=word)
    return q


def story_search(*, user: User, filters: StoryFilters, limit: int = 100) -> QuerySet[CaseStory]:
    qs = stories_visible_to(user).select_related("agency")
    for name in ("result", "bucket", "amount_band", "channel"):
        value = getattr(filters, name)
        if value:
            qs = qs.filter(**{name: value})
    if filters.tag:
        qs = qs.filter(tags_text__contains=f" {filters.tag.strip().lower().replace(' ', '_')} ")
    words = [w for w in filters.q.split() if w][:8]
    if words:
        cond = Q()
        for w in words:
            cond &= _word(w)
        if connection.vendor == "postgresql":
            from django.contrib.postgres.search import SearchQuery, SearchVector

            vector = SearchVector(*TEXT_FIELDS, config="english")
            qs = qs.annotate(_fts=vector).filter(cond | Q(_fts=SearchQuery(" ".join(words), config="english")))
        else:
            qs = qs.filter(cond)
    return qs.order_by("-created_at", "-id")[:limit]


def tag_counts(*, user: User, limit: int = 30) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for tags in stories_visible_to(user).values_list("tags", flat=True):
        for t in tags or []:
            counts[t] = counts.get(t, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def result_counts(*, user: User) -> dict[str, int]:
    return {r["result"]: r["n"] for r in stories_visible_to(user).values("result").annotate(n=Count("id"))}
