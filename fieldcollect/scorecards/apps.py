from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    name = "fieldcollect.scorecards"
    label = "scorecards"
    default_auto_field = "django.db.models.BigAutoField"
