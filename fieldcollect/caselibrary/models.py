"""The case library: what was tried on a case and what worked (or did not), so that the bank and
its agencies learn from successes and failures alike."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from fieldcollect.core.records import NewestFirst, by_user


class Result(models.TextChoices):
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")


class AmountBand(models.TextChoices):
    UNDER_5K = "lt5k", _("Under ¥5,000")
    FROM_5K = "5k-20k", _("¥5,000–20,000")
    FROM_20K = "20k-100k", _("¥20,000–100,000")
    OVER_100K = "gt100k", _("Over ¥100,000")


# upper bounds in fen of each band (the last has none)
BAND_LIMITS: list[tuple[str, int | None]] = [
    (AmountBand.UNDER_5K, 500_000), (AmountBand.FROM_5K, 2_000_000), (AmountBand.FROM_20K, 10_000_000),
    (AmountBand.OVER_100K, None),
]


def amount_band(fen: int) -> str:
    for band, limit in BAND_LIMITS:
        if limit is None or fen < limit:
            return band
    return AmountBand.OVER_100K


class StoryChannel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("SMS")
    VISIT = "visit", _("Field visit")
    LETTER = "letter", _("Letter")
    WECHAT = "wechat", _("WeChat")
    MIXED = "mixed", _("Several channels")


class CaseStory(NewestFirst):
    title = models.CharField(max_length=200)
    result = models.CharField(max_length=8, choices=Result.choices, db_index=True)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="stories")
    agency = models.ForeignKey("agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    bucket = models.CharField(max_length=8, blank=True, default="", db_index=True)
    amount_band = models.CharField(max_length=10, choices=AmountBand.choices, blank=True, default="")
    channel = models.CharField(max_length=8, choices=StoryChannel.choices, blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    tags_text = models.CharField(max_length=1000, blank=True, default="",
                                 help_text="The tags as ' tag1 tag2 ' for search (JSON escapes non-ASCII text)")
    situation = models.TextField(blank=True, default="", help_text="The customer's situation")
    what_was_tried = models.TextField()
    what_worked = models.TextField(blank=True, default="", help_text="What worked, or why it failed")
    lessons = models.TextField(blank=True, default="")
    timeline = models.TextField(blank=True, default="", help_text="The case's timeline when the story was written")
    created_by = by_user()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(NewestFirst.Meta):
        verbose_name_plural = "case stories"

    def __str__(self) -> str:
        return self.title
