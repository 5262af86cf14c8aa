"""Stable error codes of the case library domain (API clients match on these, never on messages)."""

from __future__ import annotations

from enum import StrEnum


class StoryErrorCode(StrEnum):
    BAND = "story.band"
    CASE_OPEN = "story.case_open"
    CHANNEL = "story.channel"
    NOT_FOUND = "story.not_found"
    RESULT = "story.result"
    TITLE = "story.title"
    TRIED = "story.tried"
