"""One invitation that cannot be rendered fails alone, with its reason on the row; the batch goes out."""

import pytest
import time_machine

from surveys.models import Invitation
from surveys.services.dispatch import invitations_dispatch_due, invitations_remind_due
from tests.factories import ContactFactory, InvitationFactory, MessageFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatch(django_capture_on_commit_callbacks):
    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return invitations_dispatch_due()

    return run


def test_a_non_text_product_name_stored_earlier_renders_with_the_surveys_name(outbox, dispatch):
    InvitationFactory(
        status=Invitation.Status.SCHEDULED,
        contact=ContactFactory(email="ann@example.com"),
        properties={"question_product_name": {"a": 1}},
    )

    assert dispatch() == 1

    [email] = outbox
    assert email.subject == "Acme: a quick question"


def test_an_unrenderable_invitation_fails_alone_with_its_reason(outbox, dispatch, caplog):
    good = [
        InvitationFactory(status=Invitation.Status.SCHEDULED, contact=ContactFactory(email=f"c{n}@example.com"))
        for n in range(3)
    ]
    broken = InvitationFactory(
        status=Invitation.Status.SCHEDULED, contact=ContactFactory(email="broken@example.com"), locale="zz"
    )

    assert dispatch() == 4

    broken.refresh_from_db()
    assert (broken.status, broken.cancel_reason, broken.message_id) == (
        Invitation.Status.CANCELLED,
        "failed: KeyError",
        None,
    )
    assert sorted(message.recipient for message in outbox) == sorted(i.contact.email for i in good)
    assert all(Invitation.objects.get(pk=i.pk).status == Invitation.Status.QUEUED for i in good)
    assert f"invitation {broken.pk} could not be rendered" in caplog.text
    assert "broken@example.com" not in caplog.text


def test_an_unrenderable_reminder_is_given_up_and_the_link_keeps_working(outbox, django_capture_on_commit_callbacks):
    survey = SurveyFactory(reminder_after_days=1)
    invitation = InvitationFactory(
        survey=survey,
        status=Invitation.Status.QUEUED,
        locale="zz",
        message=MessageFactory(status="delivered"),
        scheduled_at="2026-03-01T10:00:00Z",
        expires_at="2026-04-01T10:00:00Z",
    )
    with time_machine.travel("2026-03-03 10:00:00+00:00"), django_capture_on_commit_callbacks(execute=True):
        assert invitations_remind_due() == 0

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.QUEUED
    assert invitation.reminded_at is not None
    assert outbox == []
