"""`manage.py export_contact` (surveys/management/commands/export_contact.py)."""

import json

import pytest
from django.core.management import CommandError, call_command

from console.models import AuditEntry
from tests.factories import ContactFactory, ResponseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(db):
    contact = ContactFactory(email="ann@example.com", name="Ann", phone="+33612345678")
    return ResponseFactory(invitation__contact=contact, comment="Trop lent, désolée", score=4)


def test_export_prints_the_json_and_is_audited(answered, capsys):
    call_command("export_contact", "--phone", "+33612345678")

    data = json.loads(capsys.readouterr().out)
    assert (data["contact"]["email"], data["responses"][0]["comment"]) == ("ann@example.com", "Trop lent, désolée")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_id) == ("exported", str(answered.contact_id))
    assert entry.actor_label.startswith("export_contact on the command line (")


def test_export_writes_a_file(answered, tmp_path, capsys):
    path = tmp_path / "ann.json"

    call_command("export_contact", "--id", str(answered.contact_id), "--output", str(path))

    assert json.loads(path.read_text(encoding="utf-8"))["contact"]["id"] == answered.contact_id
    assert capsys.readouterr().err == f"Wrote contact {answered.contact_id}'s data to {path}.\n"


def test_an_unwritable_file_is_a_command_error_and_nothing_is_exported(answered, tmp_path):
    with pytest.raises(CommandError, match=r"Cannot write .*missing/ann.json: No such file or directory."):
        call_command("export_contact", "--email", "ann@example.com", "--output", str(tmp_path / "missing" / "ann.json"))

    assert not AuditEntry.objects.exists()


def test_an_unknown_person_is_a_command_error(db):
    with pytest.raises(CommandError, match="No contact with phone \\+33600000000."):
        call_command("export_contact", "--phone", "+33600000000")
