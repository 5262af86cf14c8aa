from __future__ import annotations

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "fieldcollect.privacy"
    label = "privacy"
    verbose_name = "Privacy and data sharing"
    default_auto_field = "django.db.models.BigAutoField"
