"""The loop on PostgreSQL with a live Celery worker and beat doing the background work."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from feedback.models import FollowUp
from notifications.models import Message
from surveys.models import Invitation
from surveys.services.api_keys import api_key_create
from surveys.tokens import invitation_token
from tests.conftest import BROWSER_USER_AGENT
from tests.factories import RootCauseFactory, RoutingRuleFactory, TeamFactory, TriggerRuleFactory, UserFactory
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_loop_runs_on_postgresql_with_a_live_worker(live_tasks):
    team = TeamFactory(name="Care")
    agent = UserFactory(email="agent@closeloop.test", team=team)
    TriggerRuleFactory(event_type="purchase", survey__kind="nps")
    RoutingRuleFactory(team=team)
    cause = RootCauseFactory(name="Late delivery")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(name='itest')[1]}")

    created = api.post(
        "/api/events/",
        {"type": "purchase", "external_id": "order-1", "contact": {"email": "ann@example.com"}},
        format="json",
    )
    assert created.status_code == 201

    # The worker's embedded beat claims the due invitation and the worker sends its message.
    message = wait_for(
        lambda: Message.objects.filter(status=Message.Status.SENT).first(), what="the survey email to be sent"
    )
    assert message.recipient == "ann@example.com"
    invitation = Invitation.objects.get()
    assert invitation.message == message

    customer = Client(HTTP_USER_AGENT=BROWSER_USER_AGENT)
    path = f"/s/{invitation_token(invitation.public_id)}/"
    assert customer.post(path, {"step": "score", "score": "2"}).status_code == 302

    follow_up = wait_for(lambda: FollowUp.objects.first(), what="the worker to open the follow-up")
    assert follow_up.assignee == agent

    staff = Client()
    staff.force_login(agent)
    assert (
        staff.post(f"/follow-ups/{follow_up.pk}/resolve/", {"root_cause": cause.pk, "outcome": "recovered"}).status_code
        == 302
    )
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.RESOLVED
