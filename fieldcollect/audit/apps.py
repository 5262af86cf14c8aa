from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "fieldcollect.audit"
    verbose_name = "Audit log"
