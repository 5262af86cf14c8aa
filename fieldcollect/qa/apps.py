from django.apps import AppConfig


class QaConfig(AppConfig):
    name = "fieldcollect.qa"
    label = "qa"
    verbose_name = "Quality inspection"
    default_auto_field = "django.db.models.BigAutoField"
