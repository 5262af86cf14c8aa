from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "fieldcollect.compliance"
    verbose_name = "Compliance"
