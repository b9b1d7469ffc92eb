from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from delighted.models import AutopilotMembership
from delighted.services import autopilot_invite_due, autopilot_membership_add
from surveys.models import Invitation
from surveys.services.contacts import ContactData
from tests.factories import SurveyFactory

pytestmark = pytest.mark.django_db


def test_autopilot_invite_due_surveys_members_again_after_the_frequency(settings):
    settings.AUTOPILOT_FREQUENCY_DAYS = 60
    survey = SurveyFactory()
    with time_machine.travel("2026-01-01 12:00:00+00:00", tick=False):
        membership = autopilot_membership_add(survey=survey, channel="email", data=ContactData(email="a@example.com"))
        assert autopilot_invite_due() == 0
    with time_machine.travel("2026-03-02 12:00:00+00:00", tick=False):
        assert autopilot_invite_due() == 1
        membership.refresh_from_db()
        assert membership.next_survey_at == timezone.now() + timedelta(days=60)

    assert Invitation.objects.filter(contact=membership.contact, survey=survey).count() == 2


def test_autopilot_membership_add_twice_keeps_one_member_and_updates_properties():
    survey = SurveyFactory()
    data = ContactData(email="a@example.com")

    autopilot_membership_add(survey=survey, channel="email", data=data, properties={"plan": "free"})
    autopilot_membership_add(survey=survey, channel="email", data=data, properties={"plan": "pro"})

    assert AutopilotMembership.objects.get().properties == {"plan": "pro"}
    assert Invitation.objects.count() == 1
