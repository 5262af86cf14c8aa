from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "fieldcollect.compliance"
    label = "compliance"
    verbose_name = "Compliance"
