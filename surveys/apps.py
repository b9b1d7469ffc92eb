from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from surveys import (
            receivers,  # noqa: F401  (connects the SMS reply receiver)
            selectors,  # noqa: F401  (connects the forgetting of cached keys and rules)
        )
