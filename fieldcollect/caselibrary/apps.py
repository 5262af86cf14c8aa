from django.apps import AppConfig


class CaseLibraryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "fieldcollect.caselibrary"
    label = "caselibrary"
    verbose_name = "Case library"
