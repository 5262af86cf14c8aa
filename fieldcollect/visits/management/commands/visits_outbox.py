"""Queue the reminders that are due and deliver the outbox (run it every few minutes, e.g. from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from fieldcollect.outbox.services import outbox_dispatch
from fieldcollect.visits.services import reminders_enqueue


class Command(BaseCommand):
    help = "Queue due appointment reminders, then send pending outbox messages (file adapter unless VISITS_SMS_GATEWAY_URL is set)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        queued = reminders_enqueue()
        counts = outbox_dispatch(limit=options["limit"])
        self.stdout.write(f"reminders queued: {queued}; sent: {counts['sent']}, retry: {counts['retry']}, "
                          f"failed: {counts['failed']}, held by the compliance rules: {counts['held']}")
