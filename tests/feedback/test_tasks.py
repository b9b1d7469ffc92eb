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


def test_inbound_sms_received_lands_on_the_open_sms_case():
    invitation = InvitationFactory(channel=Channel.SMS, contact=ContactFactory(phone="+33612345678"))
    follow_up = FollowUpFactory(response=ResponseFactory(invitation=invitation))

    inbound_sms_received.send(sender=None, inbound_id=1, phone="+33612345678", body="Still broken")

    assert list(follow_up.entries.values_list("kind", "body")) == [(FollowUpEntry.Kind.CUSTOMER_REPLY, "Still broken")]
