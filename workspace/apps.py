from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The product as a whole: `manage.py serve` (what `make run` starts) and the demo workspace it loads.

    It sits above every app because the demo touches them all (surveys, cases, rollups).
    """

    name = "workspace"
    default_auto_field = "django.db.models.BigAutoField"
