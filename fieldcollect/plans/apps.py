from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "fieldcollect.plans"
    verbose_name = "Repayment plans"
