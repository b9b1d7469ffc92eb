"""`manage.py erase_contact` (surveys/management/commands/erase_contact.py)."""

import pytest
from django.core.management import CommandError, call_command

from console.models import AuditEntry
from surveys.models import Contact, Response
from tests.factories import ContactFactory, ResponseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(db):
    contact = ContactFactory(email="ann@example.com", name="Ann", phone="+33612345678")
    return ResponseFactory(invitation__contact=contact, comment="Too slow", score=4)


@pytest.mark.parametrize("which", [["--email", "ANN@example.com"], ["--phone", "+33612345678"], ["--id", "{id}"]])
def test_erase_by_email_phone_or_id_keeps_anonymous_scores_and_prints_what_went(answered, capsys, which):
    which = [arg.format(id=answered.contact_id) for arg in which]

    call_command("erase_contact", *which, "--no-input")

    assert capsys.readouterr().out.splitlines() == [
        f"Erased contact {answered.contact_id} (anonymised):",
        "  answers kept as anonymous scores: 1",
        "  comments: 1",
        "  contacts: 1",
        "  invitations: 1",
    ]
    assert Response.objects.values_list("score", "comment").get() == (4, "")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.object_id) == ("erased", None, str(answered.contact_id))
    assert entry.actor_label.startswith("erase_contact on the command line (")


def test_hard_erasure_deletes_the_answers(answered, capsys):
    call_command("erase_contact", "--email", "ann@example.com", "--hard", "--suppress", "--no-input")

    assert not Contact.objects.exists() and not Response.objects.exists()
    out = capsys.readouterr().out
    assert f"Erased contact {answered.contact_id} (hard):" in out
    assert "  suppressions kept as hashes: 3" in out  # email, SMS and WhatsApp


def test_asks_before_erasing_and_erases_nothing_unless_told_yes(answered, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    with pytest.raises(CommandError, match="Nothing was erased."):
        call_command("erase_contact", "--email", "ann@example.com")

    assert Contact.objects.get().email == "ann@example.com"
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    call_command("erase_contact", "--email", "ann@example.com")
    assert Contact.objects.get().email == ""


def test_unknown_person_and_missing_or_double_selector_are_command_errors(answered):
    with pytest.raises(CommandError, match="No contact with email nobody@example.com."):
        call_command("erase_contact", "--email", "nobody@example.com", "--no-input")
    with pytest.raises(CommandError, match="one of the arguments --email --phone --id is required"):
        call_command("erase_contact", "--no-input")
    with pytest.raises(CommandError, match="not allowed with argument"):
        call_command("erase_contact", "--email", "ann@example.com", "--phone", "+33612345678", "--no-input")
    assert not AuditEntry.objects.exists()


def test_an_erased_contact_is_refused_unless_hard(answered):
    call_command("erase_contact", "--id", str(answered.contact_id), "--no-input")

    with pytest.raises(
        CommandError, match=f"Contact {answered.contact_id} was erased on .*; --hard deletes its scores."
    ):
        call_command("erase_contact", "--id", str(answered.contact_id), "--no-input")
    call_command("erase_contact", "--id", str(answered.contact_id), "--hard", "--no-input")
    assert not Response.objects.exists()
