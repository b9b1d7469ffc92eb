"""Answers to surveys a Zendesk connector started go back to the ticket as internal notes, against a local Zendesk."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from rest_framework.test import APIClient

from integrations.connectors import connector_save
from integrations.models import ZendeskNote
from integrations.tasks import write_due_zendesk_notes, write_zendesk_note
from integrations.zendesk import zendesk_credentials_check, zendesk_note_write
from surveys.services.api_keys import api_key_create
from surveys.services.responses import response_comment, response_submit
from tests.factories import ContactFactory, EventFactory, InvitationFactory, SurveyFactory
from tests.fakes.zendesk import FakeZendesk

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
EMAIL, TOKEN = "agent@example.com", "6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def local_zendesk_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def zendesk():
    server = FakeZendesk(EMAIL, TOKEN, tickets={"35436"}).start()
    yield server
    server.stop()


@pytest.fixture
def admin_client_key():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(name='ops', scopes=['admin'])[1]}")
    return client


@pytest.fixture
def connector(zendesk):
    return connector_save(
        name="Support",
        kind="zendesk",
        secret="zd-signing-secret",
        zendesk_writeback=True,
        zendesk_url=zendesk.url,
        zendesk_email=EMAIL,
        zendesk_api_token=TOKEN,
    )


def ticket_invitation(connector, ticket_id="35436"):
    event = EventFactory(
        source=connector.source,
        type="support_ticket_solved",
        properties={"ticket_id": ticket_id},
        contact=ContactFactory(),
    )
    return InvitationFactory(contact=event.contact, event=event, survey=SurveyFactory(name="Support CSAT", kind="nps"))


def test_an_answer_becomes_an_internal_note_on_its_ticket(zendesk, connector, django_capture_on_commit_callbacks):
    invitation = ticket_invitation(connector)
    with django_capture_on_commit_callbacks(execute=True):
        response = response_submit(invitation=invitation, score=3, comment="Took a week to answer")
    [call] = zendesk.calls
    assert (call.method, call.path) == ("PUT", "/api/v2/tickets/35436.json")
    assert call.headers["Authorization"] == "Basic " + base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
    assert call.json() == {
        "ticket": {
            "comment": {
                "body": "Survey answer in Closeloop: 3 on a scale of 0 to 10 (Support CSAT).\n"
                "Comment: Took a week to answer\n"
                f"http://testserver/follow-ups/responses/{response.pk}/",
                "public": False,
            }
        }
    }
    note = ZendeskNote.objects.get()
    assert (note.status, note.attempts, note.ticket_id, note.written_at) == ("written", 1, "35436", NOW)


def test_a_comment_given_after_the_score_is_a_second_note(zendesk, connector, django_capture_on_commit_callbacks):
    invitation = ticket_invitation(connector)
    with django_capture_on_commit_callbacks(execute=True):
        response = response_submit(invitation=invitation, score=9)
    with django_capture_on_commit_callbacks(execute=True):
        response_comment(response=response, comment="Quick and kind")
    assert [call.json()["ticket"]["comment"]["body"].splitlines()[:2] for call in zendesk.calls] == [
        [
            "Survey answer in Closeloop: 9 on a scale of 0 to 10 (Support CSAT).",
            f"http://testserver/follow-ups/responses/{response.pk}/",
        ],
        [
            "The customer changed their answer (comment) in Closeloop: 9 on a scale of 0 to 10 (Support CSAT).",
            "Comment: Quick and kind",
        ],
    ]


def test_no_note_without_write_back_or_for_other_sources(zendesk, connector, django_capture_on_commit_callbacks):
    connector_save(connector=connector, zendesk_writeback=False)
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=ticket_invitation(connector), score=9)
    other = InvitationFactory(event=EventFactory(properties={"ticket_id": "35436"}))
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=other, score=9)
    assert (zendesk.calls, ZendeskNote.objects.count()) == ([], 0)


def test_with_the_broker_down_at_commit_the_answer_stands_and_the_next_sweep_writes_the_note(
    zendesk, connector, broker_refusing, django_capture_on_commit_callbacks
):
    invitation = ticket_invitation(connector)
    after = []

    with broker_refusing(write_zendesk_note):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            response_submit(invitation=invitation, score=3)
            transaction.on_commit(lambda: after.append("ran"))  # a later hook of the same commit

    # Nothing raised, the later hook ran, and the note is marked not handed over: no lease to wait out.
    assert after == ["ran"]
    note = ZendeskNote.objects.get()
    assert (note.status, note.enqueued_at, zendesk.calls) == ("pending", None, [])
    with django_capture_on_commit_callbacks(execute=True):
        assert write_due_zendesk_notes() == {"enqueued": 1}
    note.refresh_from_db()
    assert (note.status, len(zendesk.calls)) == ("written", 1)


def test_a_busy_zendesk_is_retried_with_backoff(zendesk, connector, frozen, django_capture_on_commit_callbacks):
    zendesk.statuses = [503, 429]
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=ticket_invitation(connector), score=7)
    note = ZendeskNote.objects.get()
    assert (note.status, note.attempts, note.next_attempt_at) == ("pending", 1, NOW + timedelta(seconds=60))
    assert note.error == 'Zendesk answered HTTP 503: {"error": "scripted"}'
    assert write_due_zendesk_notes() == {"enqueued": 0}  # not due yet
    frozen.shift(timedelta(seconds=61))
    with django_capture_on_commit_callbacks(execute=True):
        assert write_due_zendesk_notes() == {"enqueued": 1}
    note.refresh_from_db()
    assert (note.status, note.attempts) == ("pending", 2)
    assert note.next_attempt_at == NOW + timedelta(seconds=61 + 120)
    frozen.shift(timedelta(seconds=121))
    with django_capture_on_commit_callbacks(execute=True):
        write_due_zendesk_notes()
    note.refresh_from_db()
    assert (note.status, note.attempts, note.error, len(zendesk.calls)) == ("written", 3, "", 3)


def test_a_wrong_token_or_ticket_fails_at_once_with_zendesks_answer(
    zendesk, connector, django_capture_on_commit_callbacks
):
    connector_save(connector=connector, zendesk_api_token="revoked")
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=ticket_invitation(connector), score=7)
    connector_save(connector=connector, zendesk_api_token=TOKEN)
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=ticket_invitation(connector, ticket_id="99"), score=7)
    assert list(ZendeskNote.objects.order_by("pk").values_list("status", "attempts", "error")) == [
        ("failed", 1, 'Zendesk answered HTTP 401: {"error": "Couldn\'t authenticate you"}'),
        ("failed", 1, 'Zendesk answered HTTP 404: {"error": "RecordNotFound", "description": "Not found"}'),
    ]


def test_a_note_is_given_up_after_a_day(zendesk, connector, frozen, django_capture_on_commit_callbacks):
    zendesk.statuses = [500] * 20
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=ticket_invitation(connector), score=7)
    note = ZendeskNote.objects.get()
    while note.status == "pending":
        frozen.move_to(note.next_attempt_at)
        note = zendesk_note_write(note_id=note.pk)
    # Retried after 1, 2, 4 … 512 minutes (17 hours in all); the next wait would end past the day.
    assert (note.status, note.attempts) == ("failed", 11)


def test_a_repeated_task_writes_once(zendesk, connector, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=ticket_invitation(connector), score=7)
    note = ZendeskNote.objects.get()
    assert zendesk_note_write(note_id=note.pk) is None
    assert len(zendesk.calls) == 1


def test_failed_notes_are_counted_and_retried_once_the_token_is_fixed(
    zendesk, connector, admin_client_key, django_capture_on_commit_callbacks
):
    connector_save(connector=connector, zendesk_api_token="revoked")
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=ticket_invitation(connector), score=4)
    body = admin_client_key.get(f"/api/connectors/{connector.pk}/").json()
    assert body["zendesk_notes"] == {
        "written": 0,
        "pending": 0,
        "failed": 1,
        "last_error": 'Zendesk answered HTTP 401: {"error": "Couldn\'t authenticate you"}',
        "last_failed_ticket": "35436",
    }
    connector_save(connector=connector, zendesk_api_token=TOKEN)
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client_key.post(f"/api/connectors/{connector.pk}/retry-zendesk-notes/")
    # Answered as it stands when retried; the attempt runs after the commit.
    assert (answer.json()["zendesk_notes"]["pending"], answer.json()["zendesk_notes"]["failed"]) == (1, 0)
    assert admin_client_key.get(f"/api/connectors/{connector.pk}/").json()["zendesk_notes"]["written"] == 1
    assert [call.path for call in zendesk.calls] == ["/api/v2/tickets/35436.json"] * 2


def test_the_console_shows_failed_notes_and_retries_them(
    zendesk, connector, client, manager, django_capture_on_commit_callbacks
):
    connector_save(connector=connector, zendesk_api_token="revoked")
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=ticket_invitation(connector), score=4)
    client.force_login(manager)
    html = client.get(f"/settings/connectors/{connector.pk}/").content.decode()
    assert "0 written, 0 waiting or being retried, 1 failed." in html
    assert "Latest failure (ticket 35436): Zendesk answered HTTP 401" in html
    connector_save(connector=connector, zendesk_api_token=TOKEN)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/settings/connectors/{connector.pk}/retry-notes/")
    assert answer["Location"] == f"/settings/connectors/{connector.pk}/?retried=1#notes"
    assert "1 written, 0 waiting or being retried, 0 failed." in client.get(answer["Location"]).content.decode()


def test_the_token_check_asks_zendesk_who_it_is(zendesk, connector):
    assert zendesk_credentials_check(connector=connector) == (
        True,
        "Zendesk accepts the token: notes will be written as Ada Agent.",
    )
    assert (zendesk.calls[-1].method, zendesk.calls[-1].path) == ("GET", "/api/v2/users/me.json")
    connector_save(connector=connector, zendesk_api_token="revoked")
    # Zendesk answers bad credentials on /users/me with its anonymous user and a 200: still a refusal.
    assert zendesk_credentials_check(connector=connector) == (
        False,
        "Zendesk did not accept the agent's email and token (HTTP 200).",
    )
    assert ZendeskNote.objects.count() == 0


def test_the_token_check_from_the_api_and_the_console(zendesk, connector, admin_client_key, client, manager):
    answer = admin_client_key.post(f"/api/connectors/{connector.pk}/check-zendesk/")
    assert answer.json() == {"ok": True, "message": "Zendesk accepts the token: notes will be written as Ada Agent."}
    connector_save(connector=connector, zendesk_api_token="revoked")
    client.force_login(manager)
    page = client.post(f"/settings/connectors/{connector.pk}/check-zendesk/")
    assert page.status_code == 200
    assert (
        '<p role="alert">Zendesk did not accept the agent&#x27;s email and token (HTTP 200).</p>'
        in page.content.decode()
    )
