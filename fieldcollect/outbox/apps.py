from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "fieldcollect.outbox"
    verbose_name = "Outbox"
