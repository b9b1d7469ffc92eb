from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from feedback.models import FixCheck, FollowUp, FollowUpEntry, RoutingRule, Team, User
from feedback.services.answers import follow_up_open_for_response
from feedback.services.cases import follow_up_add_note, follow_up_assign, follow_up_move, follow_up_set_status
from feedback.services.conversation import follow_up_record_inbound_sms, follow_up_reply
from feedback.services.resolution import follow_up_reopen, follow_up_resolve
from feedback.services.sla import follow_ups_escalate
from insights.models import FollowUpTally
from insights.rollups import full_loop_rollup_rows, rollup_rebuild_loop, stored_loop_rollup_rows
from integrations.models import WebhookDelivery, WebhookSubscription
from notifications.models import Channel, Message
from notifications.services.suppressions import suppression_add
from surveys.models import Invitation, Survey
from surveys.services.dispatch import invitations_dispatch_due
from tests.factories import (
    ContactFactory,
    EventFactory,
    FollowUpFactory,
    InvitationFactory,
    ManagerFactory,
    ResponseFactory,
    RootCauseFactory,
    RoutingRuleFactory,
    SurveyFactory,
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


def test_a_french_speaking_agent_is_told_of_a_new_case_in_french():
    team = TeamFactory()
    RoutingRuleFactory(team=team)
    UserFactory(team=team, email="marie@closeloop.test", language="fr")
    response = ResponseFactory(score=0, comment="", invitation__survey__name="Livraison")

    follow_up = follow_up_open_for_response(response_id=response.pk)

    message = Message.objects.get()
    assert message.subject == (
        f"[Closeloop] Nouveau cas qui vous est attribué : cas n° {follow_up.pk} (Livraison, note 0)"
    )
    assert message.body_text.startswith(f"Nouveau cas qui vous est attribué : cas n° {follow_up.pk}.\n\nClient : ")
    assert "Commentaire : (aucun)\nÉchéance : " in message.body_text
    assert f"Ouvrir le cas : http://testserver/follow-ups/{follow_up.pk}/" in message.body_text


def test_an_escalation_reaches_each_manager_in_their_own_language():
    FollowUpFactory(remind_at=NOW, due_at=NOW + timedelta(hours=2))
    ManagerFactory(email="anne@closeloop.test", language="fr")
    ManagerFactory(email="bob@closeloop.test")

    assert follow_ups_escalate(now=NOW + timedelta(hours=3)) == {"reminded": 0, "escalated": 1}

    subjects = dict(Message.objects.values_list("recipient", "subject"))
    assert subjects["anne@closeloop.test"].startswith("[Closeloop] Escalade : délai (SLA) dépassé : cas n° ")
    assert subjects["bob@closeloop.test"].startswith("[Closeloop] Escalation: SLA breached: case #")


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


@pytest.mark.parametrize(
    ("kind", "low", "high", "words"),
    [
        ("nps", 2, 9, "No longer a detractor"),
        ("csat", 1, 4, "No longer dissatisfied"),
        ("thumbs", 0, 1, "Now a thumbs up"),
    ],
)
def test_follow_up_closed_by_a_happier_answer_says_so_in_the_words_of_its_kind(kind, low, high, words):
    RoutingRuleFactory()
    response = ResponseFactory(score=low, invitation__survey=SurveyFactory(kind=kind))
    follow_up = follow_up_open_for_response(response_id=response.pk)
    response.score = high
    response.save()

    follow_up_open_for_response(response_id=response.pk, created=False)

    follow_up.refresh_from_db()
    assert follow_up.outcome_label == words
    assert follow_up.entries.last().body == f"Closed: {words.lower()}."


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


def test_a_rule_on_the_reason_opens_a_case_when_the_reason_comes_after_the_score(
    django_capture_on_commit_callbacks,
):
    from surveys.services.responses import response_comment, response_submit

    billing = TeamFactory(name="Billing")
    RoutingRuleFactory(team=billing, score_min=0, score_max=10, comment_contains="refund")
    invitation = InvitationFactory(survey=SurveyFactory(kind="nps"))

    with django_capture_on_commit_callbacks(execute=True):
        response = response_submit(invitation=invitation, score=8)
    assert FollowUp.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response_comment(response=response, comment="I want a refund")

    assert FollowUp.objects.get().team == billing


def test_a_reason_that_routes_elsewhere_moves_an_untouched_case_to_that_team(django_capture_on_commit_callbacks):
    from surveys.services.responses import response_comment

    billing = TeamFactory(name="Billing")
    billing_agent = UserFactory(team=billing)
    RoutingRuleFactory(team=billing, position=1, comment_contains="refund")
    RoutingRuleFactory(team=TeamFactory(name="Care"), position=2, assignment=RoutingRule.Assignment.QUEUE)
    follow_up = follow_up_open_for_response(response_id=ResponseFactory(score=2).pk)
    assert follow_up.team.name == "Care"

    with django_capture_on_commit_callbacks(execute=True):
        response_comment(response=follow_up.response, comment="I want a refund")

    follow_up.refresh_from_db()
    assert (follow_up.team, follow_up.assignee) == (billing, billing_agent)
    assert list(follow_up.entries.order_by("pk").values_list("kind", "body"))[-3:] == [
        ("updated", "The customer gave a reason: I want a refund"),
        ("updated", f"Routed by rule {follow_up.rule} to team Billing"),
        ("assigned", f"Assigned to {billing_agent.email}"),
    ]
    assert Message.objects.filter(recipient=billing_agent.email).count() == 1


def test_a_reason_on_a_worked_case_goes_on_its_timeline_and_on_an_untouched_one_changes_nothing(
    django_capture_on_commit_callbacks,
):
    from surveys.services.responses import response_comment

    RoutingRuleFactory()
    worked, untouched = (follow_up_open_for_response(response_id=ResponseFactory(score=1).pk) for _ in range(2))
    follow_up_add_note(follow_up=worked, author=UserFactory(team=worked.team), body="Calling them")
    _subscribe_to_case_updates()

    with django_capture_on_commit_callbacks(execute=True):
        response_comment(response=worked.response, comment="Late parcel")
        response_comment(response=untouched.response, comment="Late parcel")

    assert list(worked.entries.filter(kind="updated").values_list("body", flat=True)) == [
        "The customer gave a reason: Late parcel"
    ]
    assert not untouched.entries.filter(kind="updated").exists()
    assert _case_updates() == []


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


def test_follow_up_reopen_by_an_agent_makes_the_case_due_like_a_new_one():
    follow_up = FollowUpFactory(team=TeamFactory(sla_hours=8), reminded_at=NOW, escalated_at=NOW)
    agent = UserFactory(team=follow_up.team)
    with time_machine.travel(NOW, tick=False):
        follow_up_resolve(follow_up=follow_up, author=agent, root_cause=RootCauseFactory(), outcome="recovered")

    # Thursday 10:00; the team works 09:00-17:00 on weekdays with an 8-hour SLA.
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        follow_up_reopen(follow_up=follow_up, actor=agent)

    follow_up.refresh_from_db()
    assert (follow_up.remind_at, follow_up.due_at) == (
        datetime(2026, 3, 5, 16, 0, tzinfo=UTC),
        datetime(2026, 3, 6, 10, 0, tzinfo=UTC),
    )
    assert (follow_up.reminded_at, follow_up.escalated_at) == (None, None)
    assert list(follow_up.entries.filter(kind="reopened").values_list("author", "body")) == [(agent.pk, "")]


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

    assert excinfo.value.message_dict == {"channel": ["The customer cannot be contacted by email: opted out."]}
    assert Message.objects.count() == 0


def test_follow_up_record_inbound_sms_outside_a_conversation_lands_on_the_latest_open_sms_case():
    invitation = InvitationFactory(
        channel=Channel.SMS, contact=ContactFactory(phone="+33612345678"), status=Invitation.Status.EXPIRED
    )
    follow_up = FollowUpFactory(response=ResponseFactory(invitation=invitation), status="waiting")

    follow_up_record_inbound_sms(phone="+33612345678", body="Thanks, it works now")

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


def test_follow_up_open_for_response_of_a_withdrawn_response_opens_nothing():
    RoutingRuleFactory()
    response = ResponseFactory(score=2)
    response_id = response.pk
    # A link scanner's answer is deleted after its signal was sent, before the task runs.
    response.delete()

    assert follow_up_open_for_response(response_id=response_id) is None
    assert FollowUp.objects.count() == 0


def _fix_check_case(*, channel: str = Channel.EMAIL, **contact_fields) -> tuple[FollowUp, Survey, User]:
    """A detractor's case routed by a rule that sends a "did we fix it?" thumbs survey."""
    fix_survey = SurveyFactory(name="Did we fix it?", kind="thumbs")
    rule = RoutingRuleFactory(fix_check_survey=fix_survey, assignment=RoutingRule.Assignment.QUEUE)
    contact = ContactFactory(**{"email": "ana@example.com", "phone": "+33612345678", **contact_fields})
    # The answer's own invitation went out today: the contact-pressure window is full.
    invitation = InvitationFactory(contact=contact, channel=channel, locale="fr")
    follow_up = follow_up_open_for_response(response_id=ResponseFactory(invitation=invitation, score=2).pk)
    return follow_up, fix_survey, UserFactory(team=rule.team)


def _resolve(follow_up: FollowUp, agent: User, outcome: str = "recovered") -> FollowUp:
    return follow_up_resolve(follow_up=follow_up, author=agent, root_cause=RootCauseFactory(), outcome=outcome)


@time_machine.travel(NOW, tick=False)
def test_follow_up_resolve_sends_the_rules_fix_check_on_the_answer_channel_despite_fatigue(outbox):
    follow_up, fix_survey, agent = _fix_check_case(channel=Channel.SMS)

    _resolve(follow_up, agent)
    invitations_dispatch_due()

    fix_check = FixCheck.objects.get()
    invitation = fix_check.invitation
    assert (fix_check.follow_up, fix_check.resolved_at, fix_check.fixed) == (follow_up, NOW, None)
    assert (invitation.survey, invitation.channel, invitation.locale, invitation.status) == (
        fix_survey,
        "sms",
        "fr",
        Invitation.Status.QUEUED,
    )
    assert [(message.recipient, message.channel) for message in Message.objects.filter(pk=invitation.message_id)] == [
        ("+33612345678", "sms")
    ]
    assert list(follow_up.entries.values_list("kind", "body"))[-1] == ("fix_sent", "Did we fix it? by sms.")


@time_machine.travel(datetime(2026, 3, 4, 21, 30, tzinfo=UTC), tick=False)
def test_follow_up_resolve_fix_check_by_sms_waits_for_the_send_window():
    follow_up, _, agent = _fix_check_case(channel=Channel.SMS)

    _resolve(follow_up, agent)

    # 22:30 in Paris (the phone's zone) is outside 09:00-20:00: it goes at 09:00 Paris the next morning.
    assert FixCheck.objects.get().invitation.scheduled_at == datetime(2026, 3, 5, 8, 0, tzinfo=UTC)


def test_follow_up_resolve_sends_no_fix_check_to_an_opted_out_customer():
    follow_up, _, agent = _fix_check_case()
    suppression_add(channel=Channel.EMAIL, recipient="ana@example.com", reason="unsubscribe", source="test")

    _resolve(follow_up, agent)

    assert FixCheck.objects.count() == 0
    assert list(follow_up.entries.values_list("kind", "body"))[-1] == ("fix_sent", "Not sent by email: they opted out.")


@pytest.mark.parametrize(
    ("outcome", "with_survey", "sent"), [("unreachable", True, 0), ("not_recovered", True, 1), ("recovered", False, 0)]
)
def test_follow_up_resolve_fix_check_only_for_reached_customers_of_a_rule_that_has_one(outcome, with_survey, sent):
    follow_up, _, agent = _fix_check_case()
    if not with_survey:
        RoutingRule.objects.update(fix_check_survey=None)

    _resolve(follow_up, agent, outcome=outcome)

    assert FixCheck.objects.count() == sent


def test_follow_up_resolve_twice_sends_one_fix_check():
    follow_up, _, agent = _fix_check_case()
    _resolve(follow_up, agent)

    with pytest.raises(ValidationError) as excinfo:
        _resolve(FollowUp.objects.get(pk=follow_up.pk), agent)

    assert excinfo.value.message_dict == {"status": ["This case is already resolved."]}
    assert FixCheck.objects.count() == 1


def _subscribe_to_case_updates() -> None:
    WebhookSubscription.objects.create(
        name="CRM", url="https://crm.example.com/hook", secret="s", events=["follow_up.updated"]
    )


def _case_updates() -> list[tuple[str, str | None]]:
    return [
        (delivery.payload["event_data"]["status"], delivery.payload["event_data"]["outcome"])
        for delivery in WebhookDelivery.objects.filter(event_type="follow_up.updated").order_by("pk")
    ]


@time_machine.travel(NOW, tick=False)
def test_fix_check_fixed_answer_confirms_the_resolution_and_announces_it(django_capture_on_commit_callbacks):
    follow_up, _, agent = _fix_check_case()
    _resolve(follow_up, agent)
    _subscribe_to_case_updates()
    answer = ResponseFactory(invitation=FixCheck.objects.get().invitation, score=1)

    with django_capture_on_commit_callbacks(execute=True):
        recorded = follow_up_open_for_response(response_id=answer.pk)
        follow_up_open_for_response(response_id=answer.pk)

    assert recorded.pk == follow_up.pk
    assert FollowUp.objects.count() == 1
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome, follow_up.resolved_at, follow_up.fix_confirmed) == (
        "resolved",
        "recovered",
        NOW,
        True,
    )
    assert FixCheck.objects.get().fixed is True
    assert list(follow_up.entries.filter(kind="fix_answer").values_list("body", flat=True)) == [
        "The customer answered 1: fixed."
    ]
    assert _case_updates() == [("resolved", "recovered")]


def test_fix_check_not_fixed_answer_reopens_the_case_due_like_a_new_one(django_capture_on_commit_callbacks):
    follow_up, _, agent = _fix_check_case()
    Team.objects.filter(pk=follow_up.team_id).update(sla_hours=8)
    with time_machine.travel(NOW, tick=False):
        follow_up_assign(follow_up=follow_up, actor=agent, assignee=agent)
        _resolve(follow_up, agent)
        FollowUp.objects.filter(pk=follow_up.pk).update(reminded_at=NOW, escalated_at=NOW)
    invitations_dispatch_due()
    _subscribe_to_case_updates()
    answer = ResponseFactory(invitation=FixCheck.objects.get().invitation, score=0)

    # Thursday 10:00; the team works 09:00-17:00 on weekdays with an 8-hour SLA.
    with time_machine.travel(NOW + timedelta(days=1), tick=False), django_capture_on_commit_callbacks(execute=True):
        recorded = follow_up_open_for_response(response_id=answer.pk)
        follow_up_open_for_response(response_id=answer.pk)

    assert recorded.pk == follow_up.pk
    assert FollowUp.objects.count() == 1
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome, follow_up.root_cause, follow_up.resolved_at) == (
        "in_progress",
        "",
        None,
        None,
    )
    assert follow_up.fix_confirmed is None
    assert (follow_up.remind_at, follow_up.due_at) == (
        datetime(2026, 3, 5, 16, 0, tzinfo=UTC),
        datetime(2026, 3, 6, 10, 0, tzinfo=UTC),
    )
    assert (follow_up.reminded_at, follow_up.escalated_at) == (None, None)
    assert FixCheck.objects.get().fixed is False
    assert list(follow_up.entries.order_by("pk").values_list("kind", "author", "body"))[-2:] == [
        ("fix_answer", None, "The customer answered 0: not fixed."),
        ("reopened", None, "The customer says it is not fixed."),
    ]
    notices = Message.objects.exclude(recipient="ana@example.com")
    assert [(message.recipient, message.subject) for message in notices] == [
        (
            agent.email,
            f"[Closeloop] The customer says it is not fixed: follow-up reopened: case #{follow_up.pk} "
            f"({follow_up.response.survey}, score 2)",
        )
    ]
    assert _case_updates() == [("in_progress", None)]


def test_fix_check_not_fixed_answer_on_a_team_queue_case_emails_nobody():
    follow_up, _, agent = _fix_check_case()
    _resolve(follow_up, agent)
    invitations_dispatch_due()

    follow_up_open_for_response(response_id=ResponseFactory(invitation=FixCheck.objects.get().invitation, score=0).pk)

    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.assignee) == ("in_progress", None)
    assert list(Message.objects.values_list("recipient", flat=True)) == ["ana@example.com"]


def test_fix_check_answer_changed_to_not_fixed_reopens_and_changed_back_stays_open():
    follow_up, _, agent = _fix_check_case()
    _resolve(follow_up, agent)
    answer = ResponseFactory(invitation=FixCheck.objects.get().invitation, score=1)
    follow_up_open_for_response(response_id=answer.pk)

    answer.score = 0
    answer.save()
    follow_up_open_for_response(response_id=answer.pk, created=False)

    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.fix_confirmed) == ("in_progress", None)

    answer.score = 1
    answer.save()
    follow_up_open_for_response(response_id=answer.pk, created=False)

    # The resolution the answer judged is undone: the case stays open for the agent to resolve again.
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.fix_confirmed) == ("in_progress", None)
    assert FixCheck.objects.get().fixed is True
    assert [body[:40] for body in follow_up.entries.filter(kind="fix_answer").values_list("body", flat=True)] == [
        "The customer answered 1: fixed.",
        "The customer answered 0: not fixed.",
        "The customer answered 1: fixed. (about t",
    ]


def test_fix_check_not_fixed_answer_keeps_the_loop_rollups_equal_to_a_recount(django_capture_on_commit_callbacks):
    follow_up, _, agent = _fix_check_case()
    with django_capture_on_commit_callbacks(execute=True):
        _resolve(follow_up, agent)
    tally = FollowUpTally.objects.get(follow_up=follow_up)
    assert (tally.resolved, tally.recovered) == (True, True)

    answer = ResponseFactory(invitation=FixCheck.objects.get().invitation, score=0)
    with django_capture_on_commit_callbacks(execute=True):
        follow_up_open_for_response(response_id=answer.pk)

    tally.refresh_from_db()
    assert (tally.resolved, tally.recovered, tally.root_cause_id, tally.hours_to_resolve) == (False, False, 0, None)
    assert stored_loop_rollup_rows() == full_loop_rollup_rows()
    counts = stored_loop_rollup_rows()
    assert list(counts.values()) == [(1, 1, 0, 0, 0, 1)]
    rollup_rebuild_loop()
    assert stored_loop_rollup_rows() == counts


def test_follow_up_reopen_cancels_the_fix_check_that_has_not_gone_out():
    follow_up, _, agent = _fix_check_case()
    _resolve(follow_up, agent)

    follow_up_reopen(follow_up=follow_up, actor=agent)
    invitations_dispatch_due()

    invitation = FixCheck.objects.get().invitation
    invitation.refresh_from_db()
    assert (invitation.status, invitation.cancel_reason, invitation.message) == ("cancelled", "case_reopened", None)
    assert Message.objects.count() == 0


def test_fix_check_not_fixed_answer_leaves_the_other_resolutions_checks_alone():
    follow_up, _, agent = _fix_check_case()
    with time_machine.travel(NOW, tick=False):
        _resolve(follow_up, agent)
        invitations_dispatch_due()
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        follow_up_reopen(follow_up=follow_up, actor=agent)
        _resolve(follow_up, agent)
        invitations_dispatch_due()
    first, second = FixCheck.objects.order_by("pk")

    follow_up_open_for_response(response_id=ResponseFactory(invitation=second.invitation, score=0).pk)

    assert list(Invitation.objects.filter(fix_check__isnull=False).values_list("status", flat=True)) == [
        "queued",
        "queued",
    ]


def test_fix_check_reopen_and_resolve_again_sends_a_new_check_and_the_old_answer_stays_on_the_timeline():
    follow_up, _, agent = _fix_check_case()
    with time_machine.travel(NOW, tick=False):
        _resolve(follow_up, agent)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        follow_up_reopen(follow_up=follow_up, actor=agent)
        _resolve(follow_up, agent)
    first, second = FixCheck.objects.order_by("pk")

    follow_up_open_for_response(response_id=ResponseFactory(invitation=first.invitation, score=1).pk)

    follow_up.refresh_from_db()
    assert (second.resolved_at, follow_up.resolved_at) == (NOW + timedelta(hours=1), NOW + timedelta(hours=1))
    assert follow_up.fix_confirmed is None
    assert follow_up.entries.filter(kind="fix_answer").get().body == (
        "The customer answered 1: fixed. (about the resolution of 4 Mar 2026, 10:00)"
    )

    follow_up_open_for_response(response_id=ResponseFactory(invitation=second.invitation, score=1).pk)

    follow_up.refresh_from_db()
    assert follow_up.fix_confirmed is True


def test_follow_up_reopen_forgets_the_fix_check_answer():
    follow_up, _, agent = _fix_check_case()
    _resolve(follow_up, agent)
    follow_up_open_for_response(response_id=ResponseFactory(invitation=FixCheck.objects.get().invitation, score=1).pk)

    follow_up_reopen(follow_up=FollowUp.objects.get(pk=follow_up.pk), actor=agent)

    follow_up.refresh_from_db()
    assert follow_up.fix_confirmed is None


def test_follow_up_move_hands_the_case_to_another_teams_queue():
    follow_up = FollowUpFactory(assignee=UserFactory())
    old_team = follow_up.team
    billing = TeamFactory(name="Billing")
    manager = ManagerFactory()

    follow_up_move(follow_up=follow_up, actor=manager, team=billing)

    follow_up.refresh_from_db()
    assert (follow_up.team, follow_up.assignee) == (billing, None)
    entry = follow_up.entries.get()
    assert (entry.kind, entry.author, entry.body) == (
        "assigned",
        manager,
        f"Moved from team {old_team} to team Billing",
    )


def test_follow_up_move_is_for_managers_only():
    follow_up = FollowUpFactory()
    agent = UserFactory(team=follow_up.team)

    with pytest.raises(ValidationError) as excinfo:
        follow_up_move(follow_up=follow_up, actor=agent, team=TeamFactory(name="Billing"))

    assert excinfo.value.message_dict == {"team": ["Only a manager can move a case to another team."]}
    follow_up.refresh_from_db()
    assert follow_up.team.name != "Billing"
