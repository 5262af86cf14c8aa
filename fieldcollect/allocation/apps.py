from django.apps import AppConfig


class AllocationConfig(AppConfig):
    name = "fieldcollect.allocation"
