from django.core.management.base import BaseCommand, CommandError

from surveys.management.commands._person import command_actor, person_arguments, person_from
from surveys.services.privacy import contact_erase


class Command(BaseCommand):
    help = (
        "Erase a person (GDPR art. 17): every trace of them goes in one transaction; their answers stay as "
        "anonymous scores unless --hard. Recorded in the console's audit trail. See docs/privacy.md."
    )

    def add_arguments(self, parser):
        person_arguments(parser)
        parser.add_argument(
            "--hard", action="store_true", help="Delete their answers too, and take them out of the dashboard's counts."
        )
        parser.add_argument(
            "--suppress",
            action="store_true",
            help="They asked never to be contacted again: a keyed hash of their addresses keeps them out of intake.",
        )
        parser.add_argument(
            "--no-input", "--noinput", action="store_false", dest="interactive", help="Do not ask for a confirmation."
        )

    def handle(self, *args, hard: bool, suppress: bool, interactive: bool, **options):
        contact = person_from(options)
        if contact.erased_at and not hard:
            raise CommandError(
                f"Contact {contact.pk} was erased on {contact.erased_at:%Y-%m-%d}; --hard deletes its scores."
            )
        if interactive:
            what = "with their answers" if hard else "keeping their answers as anonymous scores"
            answer = input(f"Erase contact {contact.pk} {what}? This cannot be undone. Type yes to go on: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing was erased.")
        result = contact_erase(
            contact=contact, hard=hard, keep_out=suppress, actor_label=command_actor("erase_contact")
        )
        self.stdout.write(f"Erased contact {result.contact_id} ({result.mode}):")
        for kind, count in result.rows.items():
            self.stdout.write(f"  {kind}: {count}")
