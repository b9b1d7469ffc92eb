from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from feedback.models import FollowUp, FollowUpEntry, RoutingRule
from feedback.services import (
    follow_up_add_note,
    follow_up_assign,
    follow_up_open_for_response,
    follow_up_record_customer_sms,
    follow_up_reopen,
    follow_up_reply,
    follow_up_resolve,
    follow_up_set_status,
    follow_ups_escalate,
)
from notifications.models import Channel, Message
from notifications.services import suppression_add
from tests.factories import (
    ContactFactory,
    EventFactory,
    FollowUpFactory,
    InvitationFactory,
    ManagerFactory,
    ResponseFactory,
    RootCauseFactory,
    RoutingRuleFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_follow_up_open_for_response_opens_one_case_for_a_detractor():
    team = TeamFactory(sla_hours=24)
    RoutingRuleFactory(team=team)
    response = ResponseFactory(score=3)

    first = follow_up_open_for_response(response_id=response.pk)
    second = follow_up_open_for_response(response_id=response.pk)

    assert first.pk == second.pk
    assert FollowUp.objects.count() == 1
    assert first.team == team
    assert first.status == FollowUp.Status.NEW
    assert list(first.entries.values_list("kind", flat=True)) == [FollowUpEntry.Kind.CREATED]


def test_follow_up_open_for_response_opens_nothing_for_a_promoter():
    RoutingRuleFactory()
    response = ResponseFactory(score=9)

    assert follow_up_open_for_response(response_id=response.pk) is None
    assert FollowUp.objects.count() == 0


def test_follow_up_open_for_response_assigns_the_least_busy_agent():
    team = TeamFactory()
    RoutingRuleFactory(team=team)
    busy = UserFactory(team=team)
    idle = UserFactory(team=team)
    FollowUpFactory(team=team, assignee=busy)

    follow_up = follow_up_open_for_response(response_id=ResponseFactory(score=0).pk)

    assert follow_up.assignee == idle


@time_machine.travel(NOW, tick=False)
def test_follow_up_open_for_response_sets_due_at_from_the_team_sla():
    team = TeamFactory(sla_hours=8)
    RoutingRuleFactory(team=team)

    follow_up = follow_up_open_for_response(response_id=ResponseFactory(score=2).pk)

    # Wednesday 10:00 + 8 business hours (09:00-17:00) = Thursday 10:00; the reminder at 6 h is 16:00.
    assert follow_up.due_at == NOW + timedelta(days=1)
    assert follow_up.remind_at == NOW + timedelta(hours=6)


def test_follow_up_resolve_requires_a_root_cause():
    follow_up = FollowUpFactory()
    agent = UserFactory(team=follow_up.team)

    with pytest.raises(ValidationError) as excinfo:
        follow_up_resolve(follow_up=follow_up, author=agent, root_cause=None)

    assert excinfo.value.message_dict == {
        "root_cause": ["Choose the root cause before resolving."],
        "outcome": ["Choose the outcome: recovered, not recovered or unreachable."],
    }
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.NEW
    assert follow_up.entries.count() == 0


@time_machine.travel(NOW, tick=False)
def test_follow_up_resolve_records_cause_and_timeline_entry():
    follow_up = FollowUpFactory()
    agent = UserFactory(team=follow_up.team)
    cause = RootCauseFactory(name="Late delivery")

    follow_up_resolve(
        follow_up=follow_up, author=agent, root_cause=cause, outcome="recovered", note=" Refunded shipping "
    )

    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.RESOLVED
    assert follow_up.resolved_at == NOW
    assert follow_up.root_cause == cause
    entry = follow_up.entries.get()
    assert (entry.kind, entry.author, entry.body) == ("resolved", agent, "Late delivery · Recovered: Refunded shipping")


def test_follow_up_add_note_refuses_a_blank_note():
    follow_up = FollowUpFactory()

    with pytest.raises(ValidationError) as excinfo:
        follow_up_add_note(follow_up=follow_up, author=UserFactory(team=follow_up.team), body="   ")

    assert excinfo.value.message_dict == {"body": ["Write a note before saving it."]}
    assert follow_up.entries.count() == 0


@time_machine.travel(datetime(2026, 3, 6, 15, 0, tzinfo=UTC), tick=False)
def test_follow_up_open_for_response_sla_skips_weekend_and_holiday():
    team = TeamFactory(sla_hours=4, opens_at=time(9), closes_at=time(17), holidays=["2026-03-09"])
    RoutingRuleFactory(team=team)

    follow_up = follow_up_open_for_response(response_id=ResponseFactory(score=1).pk)

    # Friday 15:00 + 4 h: 2 h Friday, Monday is a holiday, 2 h on Tuesday.
    assert follow_up.due_at == datetime(2026, 3, 10, 11, 0, tzinfo=UTC)


def test_follow_up_open_for_response_round_robin_takes_turns():
    team = TeamFactory()
    RoutingRuleFactory(team=team, assignment=RoutingRule.Assignment.ROUND_ROBIN)
    first, second = UserFactory(team=team), UserFactory(team=team)

    assignees = [follow_up_open_for_response(response_id=ResponseFactory(score=0).pk).assignee for _ in range(3)]

    assert assignees == [first, second, first]


def test_follow_up_open_for_response_assigns_agent_named_by_property():
    team = TeamFactory()
    RoutingRuleFactory(team=team, assignment=RoutingRule.Assignment.PROPERTY, assignee_property="account_manager_email")
    UserFactory(team=team)
    manager_of_account = UserFactory(team=team, email="am@closeloop.test")
    named = ResponseFactory(
        score=0, invitation__contact=ContactFactory(properties={"account_manager_email": "AM@closeloop.test"})
    )
    unnamed = ResponseFactory(score=0)

    assert follow_up_open_for_response(response_id=named.pk).assignee == manager_of_account
    assert follow_up_open_for_response(response_id=unnamed.pk).assignee is None


def test_follow_up_open_for_response_queue_strategy_leaves_it_unassigned():
    team = TeamFactory()
    RoutingRuleFactory(team=team, assignment=RoutingRule.Assignment.QUEUE)
    UserFactory(team=team)

    assert follow_up_open_for_response(response_id=ResponseFactory(score=0).pk).assignee is None


def test_follow_up_open_for_response_uses_event_property_rule_and_its_priority():
    care, vip = TeamFactory(), TeamFactory()
    RoutingRuleFactory(team=vip, position=1, event_properties={"tier": "gold"}, priority="high", sla_hours=2)
    RoutingRuleFactory(team=care, position=2)
    gold = ResponseFactory(score=2, invitation__event=EventFactory(properties={"tier": "gold"}))

    follow_up = follow_up_open_for_response(response_id=gold.pk)

    assert (follow_up.team, follow_up.priority) == (vip, "high")
    assert follow_up_open_for_response(response_id=ResponseFactory(score=2).pk).team == care


def test_follow_up_open_for_response_notifies_the_assignee_by_email():
    team = TeamFactory()
    RoutingRuleFactory(team=team)
    agent = UserFactory(team=team, email="a@closeloop.test")

    follow_up = follow_up_open_for_response(response_id=ResponseFactory(score=0).pk)

    message = Message.objects.get()
    assert (message.channel, message.recipient) == (Channel.EMAIL, agent.email)
    assert message.subject.startswith(f"[Closeloop] New follow-up assigned to you: case #{follow_up.pk}")


def test_follow_up_open_for_response_closes_unworked_case_when_no_longer_a_detractor():
    RoutingRuleFactory()
    response = ResponseFactory(score=2)
    follow_up = follow_up_open_for_response(response_id=response.pk)
    response.score = 9
    response.save()

    follow_up_open_for_response(response_id=response.pk, created=False)

    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome) == ("resolved", "no_longer_detractor")
    assert FollowUp.objects.count() == 1


def test_follow_up_open_for_response_keeps_a_worked_case_open_on_score_change():
    RoutingRuleFactory()
    response = ResponseFactory(score=2)
    follow_up = follow_up_open_for_response(response_id=response.pk)
    follow_up_add_note(follow_up=follow_up, author=UserFactory(team=follow_up.team), body="Called")
    response.score = 9
    response.save()

    follow_up_open_for_response(response_id=response.pk, created=False)

    follow_up.refresh_from_db()
    assert follow_up.status == "in_progress"
    assert follow_up.entries.last().body == "The customer changed their score to 9."


def test_follow_up_assign_refuses_an_agent_of_another_team():
    follow_up = FollowUpFactory()
    outsider = UserFactory()

    with pytest.raises(ValidationError) as excinfo:
        follow_up_assign(follow_up=follow_up, actor=outsider, assignee=outsider)

    assert list(excinfo.value.message_dict) == ["assignee"]


def test_follow_up_assign_claim_records_audit_entry():
    follow_up = FollowUpFactory()
    agent = UserFactory(team=follow_up.team)

    follow_up_assign(follow_up=follow_up, actor=agent, assignee=agent)

    entry = follow_up.entries.get()
    assert (entry.kind, entry.author, entry.body) == ("assigned", agent, f"Assigned to {agent.email}")


def test_follow_up_set_status_moves_and_refuses_resolving_without_cause():
    follow_up = FollowUpFactory()
    agent = UserFactory(team=follow_up.team)

    follow_up_set_status(follow_up=follow_up, actor=agent, status="waiting")
    with pytest.raises(ValidationError):
        follow_up_set_status(follow_up=follow_up, actor=agent, status="resolved")

    follow_up.refresh_from_db()
    assert follow_up.status == "waiting"


def test_follow_up_reopen_clears_the_resolution():
    follow_up = FollowUpFactory()
    agent = UserFactory(team=follow_up.team)
    follow_up_resolve(follow_up=follow_up, author=agent, root_cause=RootCauseFactory(), outcome="unreachable")

    follow_up_reopen(follow_up=follow_up, actor=agent)

    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome, follow_up.root_cause, follow_up.resolved_at) == (
        "in_progress",
        "",
        None,
        None,
    )


def test_follow_up_reply_sends_on_the_answer_channel():
    invitation = InvitationFactory(channel=Channel.SMS, contact=ContactFactory(phone="+33612345678"))
    follow_up = FollowUpFactory(response=ResponseFactory(invitation=invitation))

    entry = follow_up_reply(follow_up=follow_up, author=UserFactory(team=follow_up.team), body="Sorry, refund sent")

    assert (entry.message.channel, entry.message.recipient, entry.message.body_text) == (
        "sms",
        "+33612345678",
        "Sorry, refund sent",
    )
    follow_up.refresh_from_db()
    assert follow_up.status == "waiting"


def test_follow_up_reply_refuses_an_opted_out_customer():
    follow_up = FollowUpFactory(response=ResponseFactory(invitation__contact=ContactFactory(email="gone@example.com")))
    suppression_add(channel=Channel.EMAIL, recipient="gone@example.com", reason="unsubscribe", source="test")

    with pytest.raises(ValidationError) as excinfo:
        follow_up_reply(follow_up=follow_up, author=UserFactory(team=follow_up.team), body="Hello")

    assert list(excinfo.value.message_dict) == ["body"]
    assert Message.objects.count() == 0


def test_follow_up_record_customer_sms_lands_on_the_timeline():
    invitation = InvitationFactory(channel=Channel.SMS, contact=ContactFactory(phone="+33612345678"))
    follow_up = FollowUpFactory(response=ResponseFactory(invitation=invitation), status="waiting")

    follow_up_record_customer_sms(phone="+33612345678", body="Thanks, it works now")

    entry = follow_up.entries.get()
    assert (entry.kind, entry.body) == ("customer", "Thanks, it works now")
    follow_up.refresh_from_db()
    assert follow_up.status == "in_progress"


def test_follows_ups_escalate_fires_each_level_once():
    lead = UserFactory(email="lead@closeloop.test")
    team = TeamFactory(lead=lead)
    agent = UserFactory(team=team, email="agent1@closeloop.test")
    ManagerFactory(email="boss@closeloop.test")
    follow_up = FollowUpFactory(team=team, assignee=agent, remind_at=NOW, due_at=NOW + timedelta(hours=2))

    assert follow_ups_escalate(now=NOW) == {"reminded": 1, "escalated": 0}
    assert follow_ups_escalate(now=NOW) == {"reminded": 0, "escalated": 0}
    assert follow_ups_escalate(now=NOW + timedelta(hours=3)) == {"reminded": 0, "escalated": 1}
    assert follow_ups_escalate(now=NOW + timedelta(hours=4)) == {"reminded": 0, "escalated": 0}

    assert list(follow_up.entries.values_list("kind", flat=True)) == ["reminder", "escalated"]
    assert sorted(Message.objects.values_list("recipient", flat=True)) == [
        "agent1@closeloop.test",
        "boss@closeloop.test",
        "lead@closeloop.test",
    ]
