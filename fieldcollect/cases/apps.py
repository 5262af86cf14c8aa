from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "fieldcollect.cases"
