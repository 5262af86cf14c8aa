from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "fieldcollect.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from fieldcollect.core.auth import login_security  # noqa: F401  (connects the login audit receivers)
