from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "fieldcollect.core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.core import checks

        from fieldcollect.core.maptiles import check_map_tiles

        checks.register(check_map_tiles)
