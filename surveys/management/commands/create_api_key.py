from django.core.management.base import BaseCommand, CommandError

from surveys.models import ApiKey, Survey
from surveys.services.api_keys import api_key_create


class Command(BaseCommand):
    help = "Create an API key; the key itself is printed on the last line and never stored."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--survey", help="Default survey, by id or name (default: the oldest NPS survey).")
        parser.add_argument(
            "--scopes",
            help=f"Comma-separated, from {', '.join(ApiKey.Scope.values)} (default: all).",
        )

    def handle(self, *args, name: str, survey: str | None, scopes: str | None, **options):
        chosen_scopes = [scope.strip() for scope in scopes.split(",") if scope.strip()] if scopes else None
        unknown = sorted(set(chosen_scopes or []) - set(ApiKey.Scope.values))
        if unknown:
            raise CommandError(f"Unknown scope(s): {', '.join(unknown)}. Choose from {', '.join(ApiKey.Scope.values)}.")
        if survey:
            lookup = {"pk": int(survey)} if survey.isdigit() else {"name": survey}
            default_survey = Survey.objects.filter(**lookup).first()
            if default_survey is None:
                raise CommandError(f"No survey {survey!r}.")
        else:
            default_survey = Survey.objects.filter(kind=Survey.Kind.NPS).order_by("created_at", "pk").first()
        api_key, raw = api_key_create(name=name, scopes=chosen_scopes, survey=default_survey)
        self.stdout.write(f"Created API key {api_key.name!r} ({', '.join(api_key.scopes)}).")
        self.stdout.write(raw)
