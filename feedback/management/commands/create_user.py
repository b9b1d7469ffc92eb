import secrets

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from feedback.models import User
from feedback.services.users import user_create


class Command(BaseCommand):
    help = "Create an agent or a manager who logs in with their email."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=User.Role.values)
        parser.add_argument("--team", default="", help="Team name; created if it does not exist.")
        parser.add_argument("--password", help="Default: a random password, printed once.")

    def handle(self, *args, email: str, role: str, team: str, password: str | None, **options):
        chosen_password = password or secrets.token_urlsafe(12)
        try:
            user = user_create(email=email, role=role, team_name=team, password=chosen_password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        team_text = f" in team {user.team.name}" if user.team else ""
        self.stdout.write(f"Created {user.role} {user.email}{team_text}.")
        if not password:
            self.stdout.write(f"Password: {chosen_password}")
