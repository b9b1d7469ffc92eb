from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The product as a whole: `manage.py serve` (what `make run` starts) and the demo workspace it loads, and the
    retention purge of every app's expired data.

    It sits above every app because the demo touches them all (surveys, cases, rollups), and the purge walks the
    kinds every app declares and records each purge in the console's audit trail.
    """

    name = "workspace"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from workspace import checks  # noqa: F401  (registers the retention settings' start-up checks)
