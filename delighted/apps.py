from django.apps import AppConfig


class DelightedConfig(AppConfig):
    """The Delighted-compatible `/v1/` API: a translation layer over the apps' services and selectors."""

    name = "delighted"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from delighted import receivers  # noqa: F401  (connects the erasure and export receivers)
