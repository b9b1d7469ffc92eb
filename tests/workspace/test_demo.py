from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from feedback.models import FollowUp, RoutingRule, User
from notifications.models import Message
from surveys.models import Invitation, Response, Survey, TriggerRule
from workspace.demo import DEMO_API_KEY, DEMO_LINK_SLUG, DEMO_LOGINS, DEMO_WIDGET_KEY, demo_is_loaded, demo_load


@pytest.mark.django_db
def test_demo_load_builds_the_workspace_without_sending_anything(outbox, client):
    assert not demo_is_loaded()

    demo_load(history_size=20)

    assert demo_is_loaded()
    assert sorted(Survey.objects.values_list("kind", flat=True)) == ["csat", "nps", "thumbs"]
    assert RoutingRule.objects.get().fix_check_survey.name == "Did we fix it?"
    assert not Invitation.objects.filter(status=Invitation.Status.SCHEDULED).exists()
    assert sorted(TriggerRule.objects.values_list("event_type", "delay")) == [
        ("purchase", timedelta(0)),
        ("support_ticket_solved", timedelta(0)),
    ]
    assert outbox == []
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.DELIVERED}
    assert Response.objects.exists()
    detractor_responses = [
        r for r in Response.objects.select_related("survey") if r.score <= {"nps": 6, "csat": 2}[r.survey.kind]
    ]
    assert FollowUp.objects.count() == len(detractor_responses)
    for email, password, role in DEMO_LOGINS:
        assert User.objects.get(email=email).role == role
        assert client.login(email=email, password=password)


@pytest.mark.django_db
def test_demo_api_key_accepts_events():
    demo_load(history_size=0)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {DEMO_API_KEY}")

    response = api.post("/api/events/", {"type": "purchase", "contact": {"email": "new@example.com"}}, format="json")

    assert response.status_code == 201
    assert response.json()["scheduled"][0]["survey"] == "Purchase NPS"


@pytest.mark.django_db
def test_demo_inbox_looks_like_a_morning():
    from django.utils import timezone

    demo_load(history_size=80)

    open_cases = FollowUp.objects.exclude(status="resolved")
    now = timezone.now()
    assert {"new", "in_progress", "waiting"} <= set(open_cases.values_list("status", flat=True))
    assert open_cases.filter(assignee__isnull=True).exists() and open_cases.filter(assignee__isnull=False).exists()
    assert open_cases.filter(due_at__lt=now).exists() and open_cases.filter(due_at__gt=now).exists()
    assert len(set(open_cases.values_list("due_at", flat=True))) == open_cases.count()


@pytest.mark.django_db
def test_demo_widget_key_shows_the_nps_survey_to_a_local_development_server(client):
    demo_load(history_size=0)

    response = client.post(
        f"/web/v1/{DEMO_WIDGET_KEY}/survey",
        {"visitor": "demo-visitor-1"},
        content_type="application/json",
        HTTP_ORIGIN="http://localhost:3000",
    )

    assert response.status_code == 200
    assert response.json()["survey"]["question"] == (
        "How likely are you to recommend Acme Store to a friend or colleague?"
    )


@pytest.mark.django_db
def test_demo_store_link_and_kiosk_take_answers_and_serve_their_qr_code(client):
    demo_load(history_size=0)

    assert client.get(f"/l/{DEMO_LINK_SLUG}/").status_code == 200
    kiosk = client.post(f"/l/{DEMO_LINK_SLUG}/?kiosk=1", {"step": "score", "score": "9"})
    assert kiosk.status_code == 302
    assert Response.objects.get(invitation__channel="kiosk").survey.name == "Purchase NPS"
    assert client.get(f"/l/{DEMO_LINK_SLUG}/qr.svg")["Content-Type"] == "image/svg+xml"
