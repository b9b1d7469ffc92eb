"""Follow-ups under concurrency on PostgreSQL: one case per answer, one check per resolution, each escalation once."""

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from feedback.models import FixCheck, FollowUp, FollowUpEntry, RoutingRule, Team
from feedback.services.answers import follow_up_open_for_response
from feedback.services.resolution import follow_up_reopen, follow_up_resolve
from feedback.services.sla import follow_ups_escalate
from notifications.models import Message
from surveys.models import Response
from surveys.services.dispatch import invitations_dispatch_due
from surveys.services.responses import response_submit
from tests.factories import (
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

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def run_concurrently(call: Callable[[], object], times: int) -> list[object]:
    """Start `times` threads on a barrier so their calls overlap; each result is a value or the exception raised."""
    results: list[object] = []
    lock = threading.Lock()
    barrier = threading.Barrier(times)

    def work() -> None:
        barrier.wait()
        try:
            result = call()
        except Exception as exc:  # noqa: BLE001 - the test asserts on what each thread got
            result = exc
        finally:
            connection.close()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=work) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_follow_up_openings_for_one_response_make_one_case_and_one_notice():
    team = TeamFactory(name="Care")
    RoutingRuleFactory(team=team, assignment=RoutingRule.Assignment.ROUND_ROBIN)
    UserFactory(email="agent1@closeloop.test", team=team)
    UserFactory(email="agent2@closeloop.test", team=team)
    response = ResponseFactory(score=2)

    results = run_concurrently(lambda: follow_up_open_for_response(response_id=response.pk), 6)

    assert [result for result in results if isinstance(result, Exception)] == []
    follow_up = FollowUp.objects.get()
    assert [result.pk for result in results] == [follow_up.pk] * 6
    assert list(follow_up.entries.values_list("kind", flat=True)) == ["created", "assigned"]
    assert list(Message.objects.values_list("recipient", flat=True)) == [follow_up.assignee.email]


def test_concurrent_duplicate_submissions_of_one_answer_open_one_case():
    RoutingRuleFactory(team=TeamFactory(name="Care"), assignment=RoutingRule.Assignment.QUEUE)
    invitation = InvitationFactory()

    results = run_concurrently(lambda: response_submit(invitation=invitation, score=1), 6)

    assert [result for result in results if isinstance(result, Exception)] == []
    response = Response.objects.get()
    assert FollowUp.objects.get().response == response
    assert FollowUpEntry.objects.filter(kind="created").count() == 1


def test_concurrent_resolutions_of_one_case_resolve_it_once_and_send_one_fix_check():
    rule = RoutingRuleFactory(fix_check_survey=SurveyFactory(name="Did we fix it?", kind="thumbs"))
    follow_up = FollowUpFactory(team=rule.team, rule=rule)
    agent = UserFactory(team=rule.team)
    cause = RootCauseFactory()

    def resolve():
        return follow_up_resolve(
            follow_up=FollowUp.objects.select_related("response__invitation", "response__contact").get(pk=follow_up.pk),
            author=agent,
            root_cause=cause,
            outcome="recovered",
        )

    results = run_concurrently(resolve, 4)

    refused = [result for result in results if isinstance(result, ValidationError)]
    assert len(refused) == 3
    assert {str(error.message_dict["status"]) for error in refused} == {"['This case is already resolved.']"}
    assert FixCheck.objects.count() == 1
    assert FollowUpEntry.objects.filter(kind="resolved").count() == 1


def test_overlapping_escalation_scans_fire_each_level_once():
    lead = UserFactory(email="lead@closeloop.test")
    team = TeamFactory(name="Care", lead=lead)
    agent = UserFactory(email="agent@closeloop.test", team=team)
    ManagerFactory(email="boss@closeloop.test")
    now = timezone.now()
    due_soon = [
        FollowUpFactory(
            team=team, assignee=agent, remind_at=now - timedelta(minutes=5), due_at=now + timedelta(hours=1)
        )
        for _ in range(5)
    ]
    breached = [
        FollowUpFactory(team=team, assignee=agent, remind_at=now - timedelta(hours=3), due_at=now - timedelta(hours=1))
        for _ in range(5)
    ]

    results = run_concurrently(lambda: follow_ups_escalate(now=now), 2)

    assert [result for result in results if isinstance(result, Exception)] == []
    assert {"reminded": sum(r["reminded"] for r in results), "escalated": sum(r["escalated"] for r in results)} == {
        "reminded": 5,
        "escalated": 5,
    }
    for follow_up in due_soon:
        assert list(follow_up.entries.values_list("kind", flat=True)) == ["reminder"]
    for follow_up in breached:
        assert list(follow_up.entries.values_list("kind", flat=True)) == ["escalated"]
    assert Message.objects.filter(recipient="agent@closeloop.test").count() == 5
    assert Message.objects.filter(recipient="boss@closeloop.test").count() == 5
    assert Message.objects.filter(recipient="lead@closeloop.test").count() == 5


def test_concurrent_deliveries_of_a_not_fixed_answer_reopen_the_case_once_with_one_notice():
    rule = RoutingRuleFactory(fix_check_survey=SurveyFactory(name="Did we fix it?", kind="thumbs"))
    agent = UserFactory(email="agent@closeloop.test", team=rule.team)
    follow_up = FollowUpFactory(team=rule.team, rule=rule, assignee=agent)
    follow_up_resolve(follow_up=follow_up, author=agent, root_cause=RootCauseFactory(), outcome="recovered")
    answer = ResponseFactory(invitation=FixCheck.objects.get().invitation, score=0)

    results = run_concurrently(lambda: follow_up_open_for_response(response_id=answer.pk), 4)

    assert [result for result in results if isinstance(result, Exception)] == []
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.resolved_at) == ("in_progress", None)
    assert FollowUpEntry.objects.filter(kind="reopened").count() == 1
    assert FollowUpEntry.objects.filter(kind="fix_answer").count() == 1
    assert list(Message.objects.filter(recipient="agent@closeloop.test").values_list("recipient", flat=True)) == [
        "agent@closeloop.test"
    ]


def test_a_reopen_racing_the_dispatcher_either_cancels_the_fix_check_or_lets_it_go_out_never_both():
    rule = RoutingRuleFactory(fix_check_survey=SurveyFactory(name="Did we fix it?", kind="thumbs"))
    agent = UserFactory(team=rule.team)
    follow_up = FollowUpFactory(team=rule.team, rule=rule)
    follow_up_resolve(follow_up=follow_up, author=agent, root_cause=RootCauseFactory(), outcome="recovered")
    invitation = FixCheck.objects.get().invitation

    calls = iter([invitations_dispatch_due, lambda: follow_up_reopen(follow_up=follow_up, actor=agent)])
    lock = threading.Lock()

    def next_call():
        with lock:
            call = next(calls)
        return call()

    results = run_concurrently(next_call, 2)

    assert [result for result in results if isinstance(result, Exception)] == []
    invitation.refresh_from_db()
    if invitation.status == "cancelled":
        assert (invitation.cancel_reason, invitation.message_id) == ("case_reopened", None)
    else:
        assert invitation.status == "queued" and invitation.message_id is not None


@pytest.mark.parametrize("strategy", [Team.Assignment.ROUND_ROBIN, Team.Assignment.LEAST_OPEN])
def test_cases_opened_at_once_are_shared_out_by_the_teams_strategy(strategy):
    team = TeamFactory(name="Care", assignment=strategy)
    RoutingRuleFactory(team=team)
    agents = [UserFactory(email=f"agent{n}@closeloop.test", team=team) for n in range(3)]
    responses = iter([ResponseFactory(score=1).pk for _ in range(6)])
    lock = threading.Lock()

    def open_next():
        with lock:
            response_id = next(responses)
        return follow_up_open_for_response(response_id=response_id)

    results = run_concurrently(open_next, 6)

    assert [result for result in results if isinstance(result, Exception)] == []
    # Without the team row lock two openings read the same turn (or the same counts) and pick the same agent.
    per_agent = {agent.email: FollowUp.objects.filter(assignee=agent).count() for agent in agents}
    assert per_agent == {"agent0@closeloop.test": 2, "agent1@closeloop.test": 2, "agent2@closeloop.test": 2}
