import json

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from surveys.management.commands._person import command_actor, person_arguments, person_from
from surveys.services.privacy import contact_export


class Command(BaseCommand):
    help = (
        "Export everything stored about a person as JSON (GDPR art. 15), to stdout or --output. "
        "Recorded in the console's audit trail. See docs/privacy.md."
    )

    def add_arguments(self, parser):
        person_arguments(parser)
        parser.add_argument("--output", "-o", help="Write the JSON to this file (default: standard output).")

    def handle(self, *args, output: str | None, **options):
        contact = person_from(options)
        if not output:
            self.stdout.write(self._json(contact))
            return
        # Opened first: an export that cannot be written is neither made nor recorded in the audit trail.
        try:
            file = open(output, "w", encoding="utf-8")  # noqa: SIM115 (closed below, after the export)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from None
        with file:
            file.write(self._json(contact) + "\n")
        self.stderr.write(f"Wrote contact {contact.pk}'s data to {output}.")

    def _json(self, contact) -> str:
        data = contact_export(contact=contact, actor_label=command_actor("export_contact"))
        return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
