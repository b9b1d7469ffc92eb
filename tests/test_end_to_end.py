"""The whole loop through HTTP: an event in, a survey out, a detractor's answer, a resolved case."""

import re

import pytest

from feedback.models import FollowUp
from insights.tasks import refresh_funnel_rollups
from notifications.models import Message
from surveys.models import Invitation, Response
from surveys.tasks import dispatch_due_invitations
from tests.factories import RootCauseFactory, RoutingRuleFactory, TriggerRuleFactory

SCORE_LINK = re.compile(r"http://testserver(/s/[0-9a-f]+/)\?score=(\d+)")


@pytest.mark.django_db
def test_loop_runs_from_event_to_resolved_follow_up(
    client, api_client, agent, manager, outbox, django_capture_on_commit_callbacks
):
    TriggerRuleFactory(event_type="purchase", survey__kind="nps", survey__name="Purchase NPS")
    RoutingRuleFactory(team=agent.team)
    cause = RootCauseFactory(name="Late delivery")

    created = api_client.post(
        "/api/events/",
        {"type": "purchase", "external_id": "order-42", "contact": {"email": "ann@example.com", "name": "Ann"}},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["scheduled"][0]["channel"] == "email"

    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due_invitations() == 1
    assert [entry.recipient for entry in outbox] == ["ann@example.com"]
    links = SCORE_LINK.findall(outbox[0].body_text)
    assert [int(score) for _, score in links] == list(range(11))
    assert Message.objects.get().status == Message.Status.SENT

    path, _ = links[3]
    assert client.get(f"{path}?score=3").status_code == 200
    assert not Response.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        answered = client.post(path, {"step": "score", "score": "3"})
    assert answered.status_code == 302
    client.post(path, {"step": "comment", "comment": "The parcel came late."})

    response = Response.objects.get()
    assert (response.score, response.comment) == (3, "The parcel came late.")
    follow_up = FollowUp.objects.get()
    assert (follow_up.response, follow_up.assignee, follow_up.status) == (response, agent, FollowUp.Status.NEW)

    client.force_login(agent)
    inbox = client.get("/follow-ups/")
    assert f"/follow-ups/{follow_up.pk}/" in inbox.content.decode()
    # Each request commits: what follows a case's change (its rollups) runs then.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/follow-ups/{follow_up.pk}/notes/", {"body": "Called Ann, refund issued."})
        resolved = client.post(
            f"/follow-ups/{follow_up.pk}/resolve/",
            {"root_cause": cause.pk, "outcome": "recovered", "note": "Refunded."},
        )
    assert resolved.status_code == 302
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.root_cause) == (FollowUp.Status.RESOLVED, cause)

    client.force_login(manager)
    refresh_funnel_rollups()  # the beat job that recounts the invitation funnel
    dashboard = client.get("/dashboard/")
    funnel, scores, loop = (dashboard.context[name] for name in ("funnel", "scores", "loop"))
    assert [(row.channel, row.stages["sent"], row.stages["responded"]) for row in funnel] == [("email", 1, 1)]
    assert (scores.responses, scores.nps.nps) == (1, -100.0)
    assert (loop.follow_ups, loop.resolved) == (1, 1)
    assert Invitation.objects.get().status == Invitation.Status.QUEUED
