"""Read-only admin: stories are written through the case library's pages and services."""

from django.contrib import admin

from fieldcollect.caselibrary.models import CaseStory
from fieldcollect.privacy.admin_base import ReadOnlyAdmin


@admin.register(CaseStory)
class CaseStoryAdmin(ReadOnlyAdmin):
    list_display = ("title", "result", "bucket", "amount_band", "channel", "created_at")
    list_filter = ("result", "bucket", "amount_band", "channel")
    search_fields = ("title", "what_was_tried", "what_worked", "lessons")
    raw_id_fields = ("case", "agency", "created_by")
