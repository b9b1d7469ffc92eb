from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from feedback.models import ApiKeyTeam, FollowUp, FollowUpEntry
from integrations.models import WebhookSubscription
from surveys.models import ApiKey
from surveys.services.api_keys import api_key_create
from tests.factories import (
    ContactFactory,
    FollowUpFactory,
    InvitationFactory,
    ResponseFactory,
    RootCauseFactory,
    SurveyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WORK = [ApiKey.Scope.FOLLOW_UPS_READ, ApiKey.Scope.FOLLOW_UPS_WRITE]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def case(team, agent):
    contact = ContactFactory(email="ada@example.com", name="Ada", phone="+33612345678")
    survey = SurveyFactory(name="Delivery NPS")
    response = ResponseFactory(
        invitation=InvitationFactory(contact=contact, survey=survey), score=3, comment="Late again"
    )
    return FollowUpFactory(response=response, team=team, assignee=agent, due_at=NOW + timedelta(hours=8))


@pytest.fixture
def other_case(other_team):
    return FollowUpFactory(team=other_team, due_at=NOW + timedelta(hours=30))


def key_client(scopes: list[str], team=None) -> APIClient:
    api_key, raw = api_key_create(name="helpdesk", scopes=scopes)
    if team is not None:
        ApiKeyTeam.objects.create(api_key=api_key, team=team)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def caller(request, agent, other_agent, manager, team):
    """The permission cast, by name."""
    callers = {
        "agent": lambda: session_client(agent),
        "other_agent": lambda: session_client(other_agent),
        "manager": lambda: session_client(manager),
        "anonymous": APIClient,
        "team_key": lambda: key_client(WORK, team=team),
        "any_team_key": lambda: key_client(WORK),
        "read_only_key": lambda: key_client([ApiKey.Scope.FOLLOW_UPS_READ]),
        "key_without_scope": lambda: key_client([ApiKey.Scope.EVENTS_WRITE]),
    }
    return callers[request.param]()


def case_json(follow_up: FollowUp) -> dict:
    response = follow_up.response
    return {
        "id": follow_up.pk,
        "status": "new",
        "priority": "normal",
        "team": "Care",
        "assignee": "agent@closeloop.test",
        "due_at": "2026-03-02T17:00:00Z",
        "outcome": None,
        "root_cause": None,
        "resolution_note": "",
        "resolved_at": None,
        "created_at": "2026-03-02T09:00:00Z",
        "updated_at": "2026-03-02T09:00:00Z",
        "response": {
            "id": response.pk,
            "survey": {"id": response.survey_id, "name": "Delivery NPS", "kind": "nps"},
            "score": 3,
            "comment": "Late again",
            "confirmed_at": "2026-03-02T09:00:00Z",
            "contact": {"id": response.contact_id, "email": "ada@example.com", "name": "Ada", "phone": "+33612345678"},
        },
    }


# --- list -----------------------------------------------------------------------------------------


def test_follow_up_list_exact_json(case, manager):
    response = session_client(manager).get("/api/follow-ups/")

    assert response.status_code == 200
    assert response.json() == {"count": 1, "next": None, "previous": None, "results": [case_json(case)]}


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("agent", ["case"]),
        ("other_agent", ["other_case"]),
        ("manager", ["case", "other_case"]),
        ("team_key", ["case"]),
        ("any_team_key", ["case", "other_case"]),
        ("read_only_key", ["case", "other_case"]),
    ],
    indirect=["caller"],
)
def test_follow_up_list_shows_what_the_caller_may_see(caller, expected, case, other_case):
    cases = {"case": case.pk, "other_case": other_case.pk}

    response = caller.get("/api/follow-ups/", {"view": "all"})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [cases[name] for name in expected]


@pytest.mark.parametrize(
    ("caller", "status_code", "message"),
    [
        ("anonymous", 401, "Authentication credentials were not provided."),
        ("key_without_scope", 403, "This API key lacks the follow_ups:read scope."),
    ],
    indirect=["caller"],
)
def test_follow_up_list_refuses_callers_without_access(caller, status_code, message, case):
    response = caller.get("/api/follow-ups/")

    assert response.status_code == status_code
    assert response.json() == {"message": message, "errors": {}}


def test_follow_up_list_defaults_to_an_agents_own_cases(agent, team, case):
    FollowUpFactory(team=team, assignee=None)

    response = session_client(agent).get("/api/follow-ups/")

    assert [row["id"] for row in response.json()["results"]] == [case.pk]


def test_follow_up_list_filters_and_sorts_like_the_inbox(manager, team, case):
    urgent = FollowUpFactory(team=team, priority="high", due_at=NOW + timedelta(hours=20))
    FollowUpFactory(team=team, status=FollowUp.Status.RESOLVED)

    response = session_client(manager).get("/api/follow-ups/", {"status": "new", "sort": "priority"})

    assert [row["id"] for row in response.json()["results"]] == [urgent.pk, case.pk]


def test_follow_up_list_filters_by_score_and_survey(manager, case, other_case):
    client = session_client(manager)

    assert [r["id"] for r in client.get("/api/follow-ups/", {"score": 3}).json()["results"]] == [case.pk, other_case.pk]
    by_survey = client.get("/api/follow-ups/", {"survey": case.response.survey_id}).json()["results"]
    assert [row["id"] for row in by_survey] == [case.pk]


def test_follow_up_list_paginates(manager, case, other_case):
    response = session_client(manager).get("/api/follow-ups/", {"page_size": 1})

    body = response.json()
    assert body["count"] == 2
    assert body["next"] == "http://testserver/api/follow-ups/?page=2&page_size=1"
    assert [row["id"] for row in body["results"]] == [case.pk]


def test_follow_up_list_rejects_bad_filters_field_by_field(manager):
    response = session_client(manager).get("/api/follow-ups/", {"view": "everyone", "score": "eleven"})

    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid input.",
        "errors": {"view": ['"everyone" is not a valid choice.'], "score": ["A valid integer is required."]},
    }


def test_follow_up_list_has_no_mine_view_for_an_api_key(case):
    response = key_client(WORK).get("/api/follow-ups/", {"view": "mine"})

    assert response.status_code == 400
    assert response.json()["errors"] == {"view": ["An API key has no cases of its own; use another view."]}


@pytest.mark.parametrize("count", [1, 20])
def test_follow_up_list_query_count(manager, team, count, django_assert_num_queries):
    FollowUpFactory.create_batch(count, team=team)
    client = session_client(manager)

    with django_assert_num_queries(4):  # session, user, count, page
        response = client.get("/api/follow-ups/")

    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("count", [1, 20])
def test_follow_up_list_query_count_with_a_team_key(team, count, django_assert_num_queries):
    FollowUpFactory.create_batch(count, team=team)
    client = key_client(WORK, team=team)
    client.get("/api/follow-ups/")  # the key's first use is recorded once a minute, not on every request

    with django_assert_num_queries(3):  # key's team, count, page (the key itself is kept in process)
        response = client.get("/api/follow-ups/")

    assert len(response.json()["results"]) == count


# --- retrieve -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "status_code"),
    [
        ("agent", 200),
        ("other_agent", 404),
        ("manager", 200),
        ("anonymous", 401),
        ("team_key", 200),
        ("any_team_key", 200),
        ("key_without_scope", 403),
    ],
    indirect=["caller"],
)
def test_follow_up_retrieve_permission_cast(caller, status_code, case):
    response = caller.get(f"/api/follow-ups/{case.pk}/")

    assert response.status_code == status_code


def test_follow_up_retrieve_of_another_teams_case_by_a_team_key_is_not_found(team, other_case):
    response = key_client(WORK, team=team).get(f"/api/follow-ups/{other_case.pk}/")

    assert response.status_code == 404
    assert response.json() == {"message": "No such follow-up.", "errors": {}}


def test_follow_up_retrieve_exact_json_with_timeline(case, agent):
    entry = FollowUpEntry.objects.create(follow_up=case, kind=FollowUpEntry.Kind.NOTE, author=agent, body="Called")

    response = session_client(agent).get(f"/api/follow-ups/{case.pk}/")

    assert response.json() == {
        **case_json(case),
        "entries": [
            {
                "id": entry.pk,
                "kind": "note",
                "author": "agent@closeloop.test",
                "body": "Called",
                "channel": "",
                "created_at": "2026-03-02T09:00:00Z",
            }
        ],
    }


# --- update ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "status_code"),
    [
        ("agent", 200),
        ("other_agent", 404),
        ("manager", 200),
        ("anonymous", 401),
        ("team_key", 200),
        ("read_only_key", 403),
        ("key_without_scope", 403),
    ],
    indirect=["caller"],
)
def test_follow_up_update_permission_cast(caller, status_code, case):
    response = caller.patch(f"/api/follow-ups/{case.pk}/", {"priority": "high"}, format="json")

    assert response.status_code == status_code
    case.refresh_from_db()
    assert case.priority == ("high" if status_code == 200 else "normal")


def test_follow_up_update_changes_status_assignee_and_priority_with_an_audit_trail(case, team, agent):
    colleague = UserFactory(email="colleague@closeloop.test", team=team)

    response = session_client(agent).patch(
        f"/api/follow-ups/{case.pk}/",
        {"status": "waiting", "assignee": "colleague@closeloop.test", "priority": "high"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["assignee"], body["priority"]) == ("waiting", "colleague@closeloop.test", "high")
    assert [(e["kind"], e["author"], e["body"]) for e in body["entries"]] == [
        ("assigned", "agent@closeloop.test", "Assigned to colleague@closeloop.test"),
        ("updated", "agent@closeloop.test", "Priority Normal → High"),
        ("status", "agent@closeloop.test", "New → Waiting on customer"),
    ]
    case.refresh_from_db()
    assert (case.status, case.assignee, case.priority) == ("waiting", colleague, "high")


def test_follow_up_update_by_a_key_is_recorded_without_a_person(case, team):
    response = key_client(WORK, team=team).patch(f"/api/follow-ups/{case.pk}/", {"assignee": None}, format="json")

    assert response.status_code == 200
    assert response.json()["assignee"] is None
    assert [(e["kind"], e["author"], e["body"]) for e in response.json()["entries"]] == [
        ("assigned", None, "Put back in the team queue")
    ]


def test_follow_up_update_reopens_a_resolved_case(case, agent):
    case.status, case.outcome, case.resolved_at = FollowUp.Status.RESOLVED, "recovered", NOW
    case.save()

    response = session_client(agent).patch(f"/api/follow-ups/{case.pk}/", {"status": "in_progress"}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["outcome"]) == ("in_progress", None)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"non_field_errors": ["Give at least one of status, assignee, priority."]}),
        ({"status": "resolved"}, {"status": ['"resolved" is not a valid choice.']}),
        ({"priority": "urgent"}, {"priority": ['"urgent" is not a valid choice.']}),
        (
            {"assignee": "nobody@closeloop.test"},
            {"assignee": ["Object with email=nobody@closeloop.test does not exist."]},
        ),
    ],
)
def test_follow_up_update_rejects_malformed_input_field_by_field(case, agent, body, errors):
    response = session_client(agent).patch(f"/api/follow-ups/{case.pk}/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"message": "Invalid input.", "errors": errors}


def test_follow_up_update_refuses_an_assignee_of_another_team_all_or_nothing(case, agent, other_agent):
    response = session_client(agent).patch(
        f"/api/follow-ups/{case.pk}/", {"priority": "high", "assignee": other_agent.email}, format="json"
    )

    assert response.status_code == 422
    assert response.json() == {
        "message": "The follow-up cannot change this way.",
        "errors": {"assignee": ["other.agent@closeloop.test is not in team Care."]},
    }
    case.refresh_from_db()
    assert (case.priority, case.assignee) == ("normal", agent)
    assert not case.entries.exists()


def test_follow_up_update_refuses_a_status_move_the_workflow_forbids(case, agent):
    case.status = FollowUp.Status.RESOLVED
    case.save()

    response = session_client(agent).patch(f"/api/follow-ups/{case.pk}/", {"status": "waiting"}, format="json")

    assert response.status_code == 422
    assert response.json()["errors"] == {"status": ["A case that is resolved cannot move to waiting."]}


# --- notes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "status_code"),
    [
        ("agent", 201),
        ("other_agent", 404),
        ("manager", 201),
        ("anonymous", 401),
        ("team_key", 201),
        ("read_only_key", 403),
    ],
    indirect=["caller"],
)
def test_follow_up_note_permission_cast(caller, status_code, case):
    response = caller.post(f"/api/follow-ups/{case.pk}/notes/", {"body": "Called, no answer"}, format="json")

    assert response.status_code == status_code
    assert case.entries.filter(kind="note").count() == (1 if status_code == 201 else 0)


def test_follow_up_note_exact_json(case, agent):
    response = session_client(agent).post(f"/api/follow-ups/{case.pk}/notes/", {"body": " Called "}, format="json")

    entry = case.entries.get()
    assert response.json() == {
        "id": entry.pk,
        "kind": "note",
        "author": "agent@closeloop.test",
        "body": "Called",
        "channel": "",
        "created_at": "2026-03-02T09:00:00Z",
    }
    case.refresh_from_db()
    assert case.status == FollowUp.Status.IN_PROGRESS


def test_follow_up_note_rejects_an_empty_body(case, agent):
    response = session_client(agent).post(f"/api/follow-ups/{case.pk}/notes/", {"body": ""}, format="json")

    assert response.status_code == 400
    assert response.json() == {"message": "Invalid input.", "errors": {"body": ["This field may not be blank."]}}


# --- resolve --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "status_code"),
    [
        ("agent", 200),
        ("other_agent", 404),
        ("manager", 200),
        ("anonymous", 401),
        ("team_key", 200),
        ("read_only_key", 403),
    ],
    indirect=["caller"],
)
def test_follow_up_resolve_permission_cast(caller, status_code, case):
    RootCauseFactory(name="Late delivery")

    response = caller.post(
        f"/api/follow-ups/{case.pk}/resolve/", {"root_cause": "Late delivery", "outcome": "recovered"}, format="json"
    )

    assert response.status_code == status_code
    case.refresh_from_db()
    assert case.status == ("resolved" if status_code == 200 else "new")


def test_follow_up_resolve_records_cause_outcome_and_note(case, agent):
    RootCauseFactory(name="Late delivery")

    response = session_client(agent).post(
        f"/api/follow-ups/{case.pk}/resolve/",
        {"root_cause": "Late delivery", "outcome": "recovered", "note": "Refunded shipping"},
        format="json",
    )

    body = response.json()
    assert response.status_code == 200
    assert {key: body[key] for key in ("status", "root_cause", "outcome", "resolution_note", "resolved_at")} == {
        "status": "resolved",
        "root_cause": "Late delivery",
        "outcome": "recovered",
        "resolution_note": "Refunded shipping",
        "resolved_at": "2026-03-02T09:00:00Z",
    }
    assert body["entries"][-1]["body"] == "Late delivery · Recovered: Refunded shipping"


def test_follow_up_resolve_requires_root_cause_and_outcome(case, agent):
    response = session_client(agent).post(f"/api/follow-ups/{case.pk}/resolve/", {}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid input.",
        "errors": {"root_cause": ["This field is required."], "outcome": ["This field is required."]},
    }


def test_follow_up_resolve_rejects_unknown_cause_and_outcome(case, agent):
    RootCauseFactory(name="Retired cause", is_active=False)

    response = session_client(agent).post(
        f"/api/follow-ups/{case.pk}/resolve/", {"root_cause": "Retired cause", "outcome": "forgotten"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "root_cause": ["Object with name=Retired cause does not exist."],
        "outcome": ['"forgotten" is not a valid choice.'],
    }


def test_follow_up_resolve_twice_is_refused(case, agent):
    RootCauseFactory(name="Late delivery")
    client = session_client(agent)
    body = {"root_cause": "Late delivery", "outcome": "recovered"}
    client.post(f"/api/follow-ups/{case.pk}/resolve/", body, format="json")

    response = client.post(f"/api/follow-ups/{case.pk}/resolve/", body, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "message": "The follow-up cannot change this way.",
        "errors": {"status": ["This case is already resolved."]},
    }
    assert case.entries.filter(kind="resolved").count() == 1


def test_follow_up_api_is_in_the_openapi_schema(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    assert {method for method in paths["/api/follow-ups/{follow_up_id}/"] if method != "parameters"} == {"get", "patch"}
    assert set(paths["/api/follow-ups/"]) == {"get"}
    assert set(paths["/api/follow-ups/{follow_up_id}/notes/"]) == {"post"}
    assert set(paths["/api/follow-ups/{follow_up_id}/resolve/"]) == {"post"}
    assert set(paths["/api/webhook-subscriptions/"]) == {"get", "post"}


# --- webhook subscriptions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "status_code"),
    [
        ("agent", 403),
        ("manager", 200),
        ("anonymous", 401),
        ("any_team_key", 403),
    ],
    indirect=["caller"],
)
def test_webhook_subscriptions_are_for_managers_and_admin_keys(caller, status_code):
    response = caller.get("/api/webhook-subscriptions/")

    assert response.status_code == status_code


def test_webhook_subscription_create_with_an_admin_key(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True

    response = key_client([ApiKey.Scope.ADMIN]).post(
        "/api/webhook-subscriptions/",
        {"name": "CRM", "url": "http://127.0.0.1:9/hook", "events": ["follow_up.created", "unsubscribe.created"]},
        format="json",
    )

    subscription = WebhookSubscription.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": subscription.pk,
        "name": "CRM",
        "url": "http://127.0.0.1:9/hook",
        "secret": subscription.secret,
        "events": ["follow_up.created", "unsubscribe.created"],
        "is_active": True,
        "created_at": "2026-03-02T09:00:00Z",
        "previous_secret_expires_at": None,
    }
    assert len(subscription.secret) == 64


def test_webhook_subscription_to_a_private_address_is_a_field_error(settings, manager):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False

    response = session_client(manager).post(
        "/api/webhook-subscriptions/",
        {"name": "CRM", "url": "http://169.254.169.254/latest", "events": ["order.paid"]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid input.",
        "errors": {"events.0": ['"order.paid" is not a valid choice.']},
    }
    response = session_client(manager).post(
        "/api/webhook-subscriptions/",
        {"name": "CRM", "url": "http://169.254.169.254/latest", "events": ["follow_up.created"]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "url": ["169.254.169.254 resolves to 169.254.169.254, a private, loopback or link-local address."]
    }
    assert not WebhookSubscription.objects.exists()


def test_webhook_subscription_update_and_delete(settings, manager):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    subscription = WebhookSubscription.objects.create(
        name="CRM", url="http://127.0.0.1:9/hook", secret="s", events=["follow_up.created"]
    )
    client = session_client(manager)

    response = client.patch(
        f"/api/webhook-subscriptions/{subscription.pk}/", {"is_active": False, "events": []}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "events": [f"Choose event types from {', '.join(WebhookSubscription.Event.values)}."]
    }

    response = client.patch(f"/api/webhook-subscriptions/{subscription.pk}/", {"is_active": False}, format="json")
    assert (response.status_code, response.json()["is_active"]) == (200, False)
    # The secret was shown once, at creation: never in a later answer.
    assert "secret" not in response.json()
    assert "secret" not in client.get(f"/api/webhook-subscriptions/{subscription.pk}/").json()
    assert all("secret" not in item for item in _items(client.get("/api/webhook-subscriptions/").json()))
    assert WebhookSubscription.objects.get().secret == "s"

    assert client.delete(f"/api/webhook-subscriptions/{subscription.pk}/").status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_follow_up_reply_by_sms_returns_the_entry_and_queues_the_message(agent, case):
    response = session_client(agent).post(
        f"/api/follow-ups/{case.pk}/replies/", {"channel": "sms", "text": "Calling you at 3"}, format="json"
    )

    assert response.status_code == 201
    entry = FollowUpEntry.objects.get(kind="reply")
    assert response.json() == {
        "id": entry.pk,
        "kind": "reply",
        "author": agent.email,
        "body": "Calling you at 3",
        "channel": "sms",
        "created_at": "2026-03-02T09:00:00Z",
    }
    assert (entry.message.recipient, entry.message.thread) == ("+33612345678", f"follow_up:{case.pk}")


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"channel": "fax", "text": "Hi"}, {"channel": ['"fax" is not a valid choice.']}),
        ({"channel": "email"}, {"text": ["This field is required."]}),
        ({"text": "x" * 1601}, {"text": ["Ensure this field has no more than 1600 characters."]}),
    ],
)
def test_follow_up_reply_bad_input_is_400_by_field(agent, case, payload, errors):
    response = session_client(agent).post(f"/api/follow-ups/{case.pk}/replies/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert not FollowUpEntry.objects.exists()


def test_follow_up_reply_to_an_opted_out_customer_is_422(agent, case):
    from notifications.services.suppressions import suppression_add

    suppression_add(channel="email", recipient="ada@example.com", reason="unsubscribe", source="test")
    response = session_client(agent).post(
        f"/api/follow-ups/{case.pk}/replies/", {"channel": "email", "text": "Hi"}, format="json"
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"channel": ["The customer cannot be contacted by email: opted out."]}


@pytest.mark.parametrize(
    ("who", "code"), [("read_key", 403), ("other_team_key", 404), ("work_key", 201), ("other_agent", 404)]
)
def test_follow_up_reply_permission_cast(request, case, other_team, who, code):
    clients = {
        "read_key": lambda: key_client([ApiKey.Scope.FOLLOW_UPS_READ]),
        "other_team_key": lambda: key_client(WORK, team=other_team),
        "work_key": lambda: key_client(WORK),
        "other_agent": lambda: session_client(request.getfixturevalue("other_agent")),
    }
    response = clients[who]().post(f"/api/follow-ups/{case.pk}/replies/", {"text": "Hi"}, format="json")
    assert response.status_code == code
    assert APIClient().post(f"/api/follow-ups/{case.pk}/replies/", {"text": "Hi"}, format="json").status_code == 401


def test_follow_up_thread_is_the_conversation_oldest_first(agent, case):
    client = session_client(agent)
    client.post(f"/api/follow-ups/{case.pk}/replies/", {"channel": "email", "text": "Sorry Ada"}, format="json")
    client.post(f"/api/follow-ups/{case.pk}/notes/", {"body": "Refund approved"}, format="json")

    body = client.get(f"/api/follow-ups/{case.pk}/thread/").json()

    assert [(item["kind"], item["text"], item["channel"]) for item in body] == [
        ("answer", "Late again", "email"),
        ("outgoing", "Sorry Ada", "email"),
        ("note", "Refund approved", ""),
    ]
    assert body[0]["question"] == "How likely are you to recommend Acme to a friend or colleague?"
    assert (body[0]["score"], body[0]["extra_answers"]) == (3, [])
    assert body[1]["delivery"] in ("Queued", "Sent")


def test_follow_up_thread_of_another_teams_case_is_404(agent, other_case):
    assert session_client(agent).get(f"/api/follow-ups/{other_case.pk}/thread/").status_code == 404


def test_follow_up_list_searches_and_filters_by_channel(manager, case, other_case):
    client = session_client(manager)
    assert [row["id"] for row in client.get("/api/follow-ups/", {"q": "ADA@example"}).json()["results"]] == [case.pk]
    assert [row["id"] for row in client.get("/api/follow-ups/", {"q": "06 12 34 56 78"}).json()["results"]] == [case.pk]
    assert client.get("/api/follow-ups/", {"channel": "sms"}).json()["count"] == 0
    assert client.get("/api/follow-ups/", {"channel": "fax"}).status_code == 400


def _items(body):
    return body["results"] if isinstance(body, dict) else body
