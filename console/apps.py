from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Manager's console"

    def ready(self) -> None:
        from console import checks, receivers  # noqa: F401  (sign-in settings' checks; the audit of erasures, exports, rotations)
