from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "fieldcollect.visits"
    verbose_name = "Field visits"
