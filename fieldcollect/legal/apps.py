from django.apps import AppConfig


class LegalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "fieldcollect.legal"
    label = "legal"
    verbose_name = "Legal referrals, letters and skip tracing"
