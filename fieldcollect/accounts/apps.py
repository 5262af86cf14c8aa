from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "fieldcollect.accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from fieldcollect.accounts import login_security  # noqa: F401  (connects the login audit receivers)
