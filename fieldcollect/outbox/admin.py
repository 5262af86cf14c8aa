"""Read-only admin of the outbox: messages are written by the services that cause them and sent by
``outbox_dispatch``; numbers and texts are encrypted and show masked."""

from django.contrib import admin

from fieldcollect.outbox.models import OutboxMessage
from fieldcollect.privacy.admin_base import ReadOnlyAdmin


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "masked_to", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "kind")
