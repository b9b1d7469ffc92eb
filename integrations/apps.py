from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Outgoing webhooks and Slack: what leaves Closeloop for other systems, told by signals from the apps below."""

    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from integrations import receivers  # noqa: F401  (connects the listeners of feedback's, surveys' and notifications' signals)
