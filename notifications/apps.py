from django.apps import AppConfig
from django.core.signals import setting_changed
from django.db.backends.signals import connection_created


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
        from config.database import prepared_statements_guard

        connection_created.connect(prepared_statements_guard, dispatch_uid="config-prepared-statements-guard")
        setting_changed.connect(_transports_reset, dispatch_uid="notifications-transports-reset")
