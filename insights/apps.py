from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """Measuring: rollups, the dashboard, metrics, the weekly digest, charts."""

    name = "insights"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from insights import receivers  # noqa: F401  (connects the rollups to the signals of the apps below)
