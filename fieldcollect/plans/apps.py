from django.apps import AppConfig


class PlansConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "fieldcollect.plans"
    label = "plans"
    verbose_name = "Repayment plans"
