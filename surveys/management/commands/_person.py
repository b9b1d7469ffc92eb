"""What `erase_contact` and `export_contact` share: one way to name the person, and who ran the command."""

import getpass

from django.core.management.base import CommandError

from surveys.models import Contact
from surveys.services.privacy import contact_find


def person_arguments(parser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--email", help="The person's email (any case).")
    which.add_argument("--phone", help="The person's phone number, E.164 (+33612345678).")
    which.add_argument("--id", type=int, dest="contact_id", help="The contact's id.")


def person_from(options: dict) -> Contact:
    contact = contact_find(
        email=options.get("email") or "", phone=options.get("phone") or "", contact_id=options.get("contact_id")
    )
    if contact is None:
        named = next(
            f"{name} {options[key]}"
            for key, name in (("email", "email"), ("phone", "phone"), ("contact_id", "id"))
            if options.get(key) not in (None, "")
        )
        raise CommandError(f"No contact with {named}.")
    return contact


def command_actor(command: str) -> str:
    """Who ran the command, for the audit trail: the operating-system account (never a customer's data)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown user"
    return f"{command} on the command line ({user})"
