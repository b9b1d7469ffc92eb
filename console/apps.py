from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Manager's console"

    def ready(self) -> None:
        from console import receivers  # noqa: F401  (connects the audit of erasures and exports)
