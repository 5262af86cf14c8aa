from __future__ import annotations

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "fieldcollect.privacy"
    verbose_name = "Privacy and data sharing"
