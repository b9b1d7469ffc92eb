import pytest
from django.core.management import CommandError, call_command

from feedback.models import FollowUp
from notifications.models import Message
from surveys.models import Event, Invitation, Response
from tests.factories import RoutingRuleFactory, TriggerRuleFactory


@pytest.mark.django_db(transaction=True)
def test_simulate_sends_events_dispatches_and_answers(capsys, outbox, team):
    TriggerRuleFactory(event_type="purchase")
    RoutingRuleFactory(team=team)

    call_command("simulate", "--events", "6", "--answer-rate", "1", "--seed", "3")

    assert Event.objects.filter(source="simulate").count() == 6
    assert Invitation.objects.filter(status=Invitation.Status.QUEUED).count() == 6
    assert Message.objects.filter(status=Message.Status.SENT).count() == 6
    assert len(outbox) == 6
    assert Response.objects.count() == 6
    detractors = Response.objects.filter(score__lte=6).count()
    assert FollowUp.objects.count() == detractors
    assert capsys.readouterr().out == "6 events, 6 invitations scheduled, 6 sent, 6 answered.\n"


@pytest.mark.django_db
def test_simulate_needs_a_trigger_rule():
    with pytest.raises(CommandError, match="No active trigger rule"):
        call_command("simulate", "--events", "1")
    assert not Event.objects.exists()
