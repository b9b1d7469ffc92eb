import pytest

from feedback.models import FollowUpEntry
from feedback.tasks import escalate_follow_ups
from notifications.models import Channel
from notifications.signals import inbound_sms_received
from tests.factories import (
    ContactFactory,
    FollowUpFactory,
    InvitationFactory,
    ResponseFactory,
)

pytestmark = pytest.mark.django_db


def test_escalate_follow_ups_returns_counts():
    assert escalate_follow_ups() == {"reminded": 0, "escalated": 0}


def test_inbound_sms_received_lands_on_the_open_sms_case_once_the_survey_link_is_closed():
    invitation = InvitationFactory(channel=Channel.SMS, contact=ContactFactory(phone="+33612345678"), status="expired")
    follow_up = FollowUpFactory(response=ResponseFactory(invitation=invitation))

    inbound_sms_received.send(sender=None, inbound_id=1, phone="+33612345678", body="Still broken")

    assert list(follow_up.entries.values_list("kind", "body")) == [(FollowUpEntry.Kind.CUSTOMER_REPLY, "Still broken")]


def test_inbound_sms_while_the_survey_is_open_is_the_surveys_not_the_cases():
    invitation = InvitationFactory(channel=Channel.SMS, contact=ContactFactory(phone="+33612345678"))
    follow_up = FollowUpFactory(response=ResponseFactory(invitation=invitation))

    inbound_sms_received.send(sender=None, inbound_id=1, phone="+33612345678", body="Still broken", thread="")

    assert not follow_up.entries.exists()
