from django.apps import AppConfig


class EarlyWarningConfig(AppConfig):
    name = "fieldcollect.earlywarning"
