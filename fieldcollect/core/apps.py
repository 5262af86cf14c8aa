from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "fieldcollect.core"
    label = "core"
    verbose_name = "Core"
