import pytest
import time_machine

from notifications.models import Message
from notifications.services.suppressions import suppression_add
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_suppression_admin_lists_and_filters(admin_client):
    suppression_add(channel="email", recipient="ann@example.com", reason="bounce", source="sendgrid")
    suppression_add(channel="sms", recipient="+33612345678", reason="stop", source="twilio")
    page = admin_client.get("/admin/notifications/suppression/?reason=stop")
    assert page.status_code == 200
    assert b"+33612345678" in page.content
    assert b"ann@example.com" not in page.content


def test_suppression_admin_is_closed_to_anonymous(client):
    assert client.get("/admin/notifications/suppression/").status_code == 302


@pytest.fixture
def unsettled():
    with time_machine.travel("2026-11-01 10:00Z", tick=False):
        return MessageFactory(status=Message.Status.UNKNOWN, recipient="unsettled@example.com")


@time_machine.travel("2026-11-03 10:00Z", tick=False)
def test_message_admin_filters_unknown_messages_past_the_grace_period(admin_client, unsettled):
    MessageFactory(status=Message.Status.UNKNOWN, recipient="recent@example.com")
    MessageFactory(status=Message.Status.SENT, recipient="sent@example.com")
    page = admin_client.get("/admin/notifications/message/?outcome=unsettled")
    assert page.status_code == 200
    assert b"unsettled@example.com" in page.content
    assert b"recent@example.com" not in page.content
    assert b"sent@example.com" not in page.content


def test_message_admin_resend_asks_first_then_sends_once(
    admin_client, unsettled, outbox, django_capture_on_commit_callbacks
):
    sent = MessageFactory(status=Message.Status.SENT)
    selected = {"action": "resend", "_selected_action": [unsettled.pk, sent.pk]}
    asked = admin_client.post("/admin/notifications/message/", selected)
    assert asked.status_code == 200
    assert b"the customer may receive it twice" in asked.content
    assert b"1 selected message(s) are not" in asked.content
    assert Message.objects.count() == 2 and outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post("/admin/notifications/message/", {**selected, "confirm": "yes"}, follow=True)
    assert b"Queued 1 copy(ies); 1 message(s) left alone." in done.content
    assert [entry.recipient for entry in outbox] == ["unsettled@example.com"]
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/notifications/message/", {**selected, "confirm": "yes"})
    assert len(outbox) == 1


def test_message_admin_resend_is_closed_to_agents(client, agent, unsettled):
    client.force_login(agent)
    response = client.post("/admin/notifications/message/", {"action": "resend", "_selected_action": [unsettled.pk],
                                                                "confirm": "yes"})  # fmt: skip
    assert response.status_code == 302
    assert Message.objects.count() == 1


def test_message_admin_never_shows_a_link_token(client):
    from tests.factories import ManagerFactory, MessageFactory

    token = "f" * 64
    message = MessageFactory(
        body_text=f"Answer: http://testserver/s/{token}/?score=9 Unsubscribe: http://testserver/u/{token}/",
        body_html=f'<a href="http://testserver/s/{token}/?score=9">9</a>',
        headers={"List-Unsubscribe": f"<http://testserver/u/{token}/?lang=en>"},
    )
    client.force_login(ManagerFactory())

    page = client.get(f"/admin/notifications/message/{message.pk}/change/").content.decode()

    assert token not in page
    assert "/s/&lt;token&gt;/?score=9" in page
