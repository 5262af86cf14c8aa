from django.apps import AppConfig


class CaseLibraryConfig(AppConfig):
    name = "fieldcollect.caselibrary"
    verbose_name = "Case library"
