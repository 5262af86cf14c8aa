from django.apps import AppConfig


class VisitsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "fieldcollect.visits"
    label = "visits"
    verbose_name = "Field visits"
