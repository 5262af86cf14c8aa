from django.contrib import admin

from fieldcollect.caselibrary.models import CaseStory


@admin.register(CaseStory)
class CaseStoryAdmin(admin.ModelAdmin):
    list_display = ("title", "result", "bucket", "amount_band", "channel", "created_at")
    list_filter = ("result", "bucket", "amount_band", "channel")
    search_fields = ("title", "what_was_tried", "what_worked", "lessons")
    raw_id_fields = ("case", "agency", "created_by")
