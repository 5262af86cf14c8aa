from django.apps import AppConfig


class LegalConfig(AppConfig):
    name = "fieldcollect.legal"
    verbose_name = "Legal referrals, letters and skip tracing"
