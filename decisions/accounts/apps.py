from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "decisions.accounts"
    label = "juece_accounts"
    verbose_name = "账号安全"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from decisions.accounts import signals  # noqa: F401  (connects the security events)
