from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "fieldcollect.ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from fieldcollect.ops.logging import configure_from_env

        configure_from_env()
