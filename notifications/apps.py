from django.apps import AppConfig
from django.core.signals import setting_changed


def _transports_reset(*, setting: str, **kwargs) -> None:
    # Transports hold SDK clients built from settings; a changed setting needs fresh ones.
    from notifications import ratelimit, transports

    transports._transports.clear()
    ratelimit._bucket = None


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from config import lookups  # noqa: F401  (registers `__any_of`, which the apps above use too)

        setting_changed.connect(_transports_reset, dispatch_uid="notifications-transports-reset")
