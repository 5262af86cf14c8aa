from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "fieldcollect.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from fieldcollect.accounts import login_security  # noqa: F401  (connects the login audit receivers)
