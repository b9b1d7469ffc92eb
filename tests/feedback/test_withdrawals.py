"""A withdrawn answer (a scanner's burst undone) tells everyone who heard of it: survey_response.deleted and
follow_up.withdrawn webhooks, and an email to the agent the case was assigned to."""

import pytest

from feedback.models import FollowUp
from integrations.models import WebhookDelivery, WebhookSubscription
from notifications.models import Message
from surveys.models import Response
from surveys.services.responses import _response_restore
from tests.factories import FollowUpFactory, ResponseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription():
    return WebhookSubscription.objects.create(
        name="CRM",
        url="https://hooks.example.test/x",
        secret="s" * 64,
        events=["survey_response.deleted", "follow_up.withdrawn"],
    )


def test_withdrawing_an_answer_with_a_case_announces_both_and_tells_the_assignee(
    subscription, team, django_capture_on_commit_callbacks
):
    assignee = UserFactory(email="ann@closeloop.test", team=team)
    case = FollowUpFactory(team=team, assignee=assignee, response=ResponseFactory(score=0, comment="bad"))
    response = case.response

    with django_capture_on_commit_callbacks(execute=False):
        _response_restore(invitation=response.invitation, score=None)

    deliveries = {d.event_type: d.payload["event_data"] for d in WebhookDelivery.objects.all()}
    assert set(deliveries) == {"survey_response.deleted", "follow_up.withdrawn"}
    assert deliveries["survey_response.deleted"]["id"] == str(response.pk)
    assert deliveries["follow_up.withdrawn"]["id"] == case.pk
    # Queued for the assignee (sent after commit, not run here: nothing may leave for the webhook's host).
    [email] = Message.objects.filter(recipient="ann@closeloop.test")
    assert email.body_text.startswith("Withdrawn: a mail scanner answered, not the customer; no need to contact them")
    assert not Response.objects.exists() and not FollowUp.objects.exists()


def test_withdrawing_a_held_answer_tells_nobody(subscription, django_capture_on_commit_callbacks):
    response = ResponseFactory(score=0, held_reason="scanner_user_agent")

    with django_capture_on_commit_callbacks(execute=False):
        _response_restore(invitation=response.invitation, score=None)

    assert WebhookDelivery.objects.count() == 0
    assert not Response.objects.exists()
