"""The console's privacy pages (console/privacy_views.py): find a person, download their data, erase them."""

import json

import pytest

from console.models import AuditEntry
from notifications.models import Suppression
from surveys.models import Contact, Response
from tests.factories import ContactFactory, MessageFactory, ResponseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(db):
    contact = ContactFactory(email="ann@example.com", name="Ann Martin", phone="+33612345678")
    return ResponseFactory(invitation__contact=contact, comment="Ann here: too slow", score=4)


@pytest.mark.parametrize("who", ["anonymous", "agent", "manager"])
def test_privacy_pages_are_for_managers(client, request, answered, who):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    contact_id = answered.contact_id
    pages = ["/settings/privacy/", f"/settings/privacy/{contact_id}/", f"/settings/privacy/{contact_id}/erase/"]

    statuses = [client.get(path).status_code for path in pages]
    exported = client.post(f"/settings/privacy/{contact_id}/export/")
    erased = client.post(f"/settings/privacy/{contact_id}/erase/", {"answers": "keep", "confirm": "on"})

    expected = {"anonymous": 302, "agent": 403, "manager": 200}[who]
    assert statuses == [expected] * 3
    assert exported.status_code == expected
    assert erased.status_code == (302 if who == "manager" else expected)
    assert Contact.objects.get(pk=contact_id).email == ("" if who == "manager" else "ann@example.com")


def test_search_finds_by_email_phone_name_or_id_and_says_when_nobody_matches(client, manager, answered):
    client.force_login(manager)

    for query in ["ANN@example.com", "+33 6 12 34 56 78", "ann martin", str(answered.contact_id)]:
        html = client.get("/settings/privacy/", {"q": query}).content.decode()
        assert f'href="/settings/privacy/{answered.contact_id}/"' in html, query
    nobody = client.get("/settings/privacy/", {"q": "nobody@example.com"}).content.decode()
    assert "Nobody matches" in nobody


def test_search_with_a_too_long_query_is_a_400_with_the_form(client, manager):
    client.force_login(manager)

    refused = client.get("/settings/privacy/", {"q": "x" * 400})

    assert refused.status_code == 400
    assert "Ensure this value has at most 320 characters" in refused.content.decode()


def test_contact_page_lists_what_is_stored_and_offers_export_and_erasure(client, manager, answered):
    MessageFactory(recipient="Ann@Example.com")
    MessageFactory(channel="sms", recipient="+33 6 12 34 56 78")
    MessageFactory(recipient="someone.else@example.com")
    client.force_login(manager)

    page = client.get(f"/settings/privacy/{answered.contact_id}/")

    assert page.context["summary"] == [
        ("Events", 0),
        ("Survey invitations", 1),
        ("Answers", 1),
        ("Answers with a comment", 1),
        ("Cases", 0),
        ("Messages sent to them", 2),
    ]
    html = page.content.decode()
    assert f'action="/settings/privacy/{answered.contact_id}/export/"' in html
    assert f'href="/settings/privacy/{answered.contact_id}/erase/"' in html


def test_export_downloads_their_json_and_is_audited(client, manager, answered):
    client.force_login(manager)

    exported = client.post(f"/settings/privacy/{answered.contact_id}/export/")

    assert exported["Content-Type"] == "application/json"
    assert exported["Content-Disposition"] == f'attachment; filename="contact-{answered.contact_id}.json"'
    data = json.loads(exported.content)
    assert [(r["score"], r["comment"]) for r in data["responses"]] == [(4, "Ann here: too slow")]
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.object_id) == (manager, "exported", str(answered.contact_id))
    assert client.get(f"/settings/privacy/{answered.contact_id}/export/").status_code == 405


def test_erasure_needs_the_confirmation_box_and_changes_nothing_without_it(client, manager, answered):
    client.force_login(manager)

    refused = client.post(f"/settings/privacy/{answered.contact_id}/erase/", {"answers": "keep"})

    assert refused.status_code == 400
    assert "Tick this box to confirm the erasure." in refused.content.decode()
    assert Contact.objects.get(pk=answered.contact_id).name == "Ann Martin"
    assert not AuditEntry.objects.exists()


def test_erasure_keeping_scores_returns_to_the_erased_contact(client, manager, answered):
    client.force_login(manager)

    erased = client.post(
        f"/settings/privacy/{answered.contact_id}/erase/", {"answers": "keep", "suppress": "on", "confirm": "on"}
    )

    assert erased["Location"] == f"/settings/privacy/{answered.contact_id}/"
    page = client.get(erased["Location"]).content.decode()
    assert "Erased on" in page and "Ann" not in page
    assert Response.objects.get().comment == ""
    # Their email, and their phone for SMS and WhatsApp, as keyed hashes.
    assert Suppression.objects.filter(source="erasure").count() == 3
    assert AuditEntry.objects.get().changes["mode"] == [None, "anonymised"]


def test_hard_erasure_returns_to_the_search_saying_so(client, manager, answered):
    client.force_login(manager)

    erased = client.post(f"/settings/privacy/{answered.contact_id}/erase/", {"answers": "delete", "confirm": "on"})

    assert erased["Location"] == f"/settings/privacy/?erased={answered.contact_id}"
    assert f"Contact {answered.contact_id} is erased" in client.get(erased["Location"]).content.decode()
    assert not Response.objects.exists()
    assert client.get(f"/settings/privacy/{answered.contact_id}/").status_code == 404
