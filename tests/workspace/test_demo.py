from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from rest_framework.test import APIClient

from feedback.models import FollowUp, FollowUpEntry, RoutingRule, Team, User
from insights import selectors
from insights.text.heads import dev_comments
from notifications.models import Message
from surveys.models import Invitation, Response, Survey, TriggerRule
from surveys.scoring import is_detractor
from workspace.demo import DEMO_API_KEY, DEMO_LINK_SLUG, DEMO_LOGINS, DEMO_WIDGET_KEY, demo_is_loaded, demo_load


@pytest.mark.django_db
def test_demo_load_builds_the_workspace_without_sending_anything(outbox, client):
    assert not demo_is_loaded()

    demo_load(days=20)

    assert demo_is_loaded()
    assert sorted(Survey.objects.values_list("kind", flat=True)) == ["ces", "csat", "nps", "thumbs"]
    rules = RoutingRule.objects.order_by("position")
    assert [(rule.team.name, rule.assignment, rule.fix_check_survey.name) for rule in rules] == [
        ("Returns", "team", "Did we fix it?"),
        ("Customer Care", "team", "Did we fix it?"),
    ]
    assert dict(Team.objects.values_list("name", "assignment")) == {
        "Customer Care": "least_open",
        "Returns": "round_robin",
    }
    assert not Invitation.objects.filter(status=Invitation.Status.SCHEDULED).exists()
    assert sorted(TriggerRule.objects.values_list("event_type", "delay")) == [
        ("purchase", timedelta(0)),
        ("return_processed", timedelta(0)),
        ("support_ticket_solved", timedelta(0)),
    ]
    assert outbox == []
    assert Message.objects.filter(status=Message.Status.QUEUED).count() == 0
    unhappy = [r for r in Response.objects.select_related("survey") if is_detractor(r.survey.kind, r.score)]
    assert FollowUp.objects.count() == len(unhappy) > 0
    for email, password, role in DEMO_LOGINS:
        assert User.objects.get(email=email).role == role
        assert client.login(email=email, password=password)


@pytest.mark.django_db
def test_demo_dashboard_figures_are_believable(client):
    demo_load()
    client.force_login(User.objects.get(email=DEMO_LOGINS[0][0]))
    assert client.get("/dashboard/").status_code == 200
    today = timezone.localdate()
    last_30_days = selectors.Filters(start=today - timedelta(days=29), end=today)

    scores = selectors.scores(last_30_days)
    nps = scores.nps
    funnel = {row.channel: row for row in selectors.funnel(last_30_days)}
    loop = selectors.loop(last_30_days, detractors=scores.detractors)
    weeks = selectors.weekly_trend(last_30_days)
    stores = {group.label for group in selectors.breakdown(last_30_days, "event:store")}

    assert 15 <= (nps.promoters - nps.detractors) * 100 / scores.counts["nps"] <= 45
    assert set(funnel) == {"email", "sms", "link", "all"}
    assert 20 <= funnel["email"].response_rate <= 35 and 20 <= funnel["sms"].response_rate <= 40
    assert len(weeks) >= 5 and all(week.scores.responses > 10 for week in weeks[:-1])
    assert {"Paris Opéra", "Lyon Part-Dieu", "Bordeaux", "Lille", "Online"} <= stores
    assert 0.5 <= loop.median_hours_to_first_contact <= 4
    assert 3 <= loop.median_hours_to_resolution <= 16
    assert 75 <= loop.sla_percent < 100  # a few cases ran past their SLA
    assert 30 <= loop.recovery_percent <= 75
    resolving = [agent.email for agent in loop.agents if agent.resolved]
    assert len(resolving) >= 4 and selectors.UNASSIGNED not in resolving
    assert len(loop.root_causes) >= 5


@pytest.mark.django_db
def test_demo_comments_are_english_and_french_sentences():
    demo_load(days=30)
    language_of = {row["text"]: row["language"] for row in dev_comments()}

    comments = list(Response.objects.exclude(comment="").values_list("comment", flat=True))

    languages = [language_of[comment] for comment in comments]
    assert languages.count("fr") > languages.count("en") > len(comments) / 4
    assert len(set(comments)) > 60
    assert Response.objects.filter(comment="").exists()  # not everyone writes something


def _history() -> list[tuple]:
    answers = Response.objects.order_by("confirmed_at", "pk").values_list("survey__name", "score", "comment")
    cases = FollowUp.objects.order_by("response__confirmed_at").values_list("team__name", "assignee__email", "status")
    return [*answers, *cases]


@pytest.mark.django_db
def test_demo_is_the_same_from_the_same_seed():
    with transaction.atomic():
        demo_load(days=5, seed=3)
        first = _history()
        transaction.set_rollback(True)
    demo_load(days=5, seed=3)

    assert len(first) > 20
    assert _history() == first


@pytest.mark.django_db
def test_demo_api_key_accepts_events():
    demo_load(days=0)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {DEMO_API_KEY}")

    response = api.post("/api/events/", {"type": "purchase", "contact": {"email": "new@example.com"}}, format="json")

    assert response.status_code == 201
    assert response.json()["scheduled"][0]["survey"] == "Purchase NPS"


@pytest.mark.django_db
def test_demo_inbox_looks_like_a_morning():
    demo_load()

    open_cases = FollowUp.objects.exclude(status="resolved")
    now = timezone.now()
    assert {"new", "in_progress", "waiting"} <= set(open_cases.values_list("status", flat=True))
    assert open_cases.filter(assignee__isnull=True).exists() and open_cases.filter(assignee__isnull=False).exists()
    assert open_cases.filter(due_at__lt=now).exists() and open_cases.filter(due_at__gt=now).exists()
    assert open_cases.filter(snoozed_until__gt=now).count() == 1
    # Nobody away is given this morning's cases, and nothing is left for the first SLA scan to send.
    assert not open_cases.filter(assignee__is_away=True).exists()
    assert not open_cases.filter(due_at__lt=now, escalated_at__isnull=True).exists()


@pytest.mark.django_db
def test_demo_widget_key_shows_the_nps_survey_to_a_local_development_server(client):
    demo_load(days=0)

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
    demo_load(days=0)

    assert client.get(f"/l/{DEMO_LINK_SLUG}/").status_code == 200
    kiosk = client.post(f"/l/{DEMO_LINK_SLUG}/?kiosk=1", {"step": "score", "score": "9"})
    assert kiosk.status_code == 302
    assert Response.objects.get(invitation__channel="kiosk").survey.name == "Purchase NPS"
    assert client.get(f"/l/{DEMO_LINK_SLUG}/qr.svg")["Content-Type"] == "image/svg+xml"


@pytest.mark.django_db
def test_the_demos_history_reads_in_french_to_a_french_speaking_manager(client):
    demo_load(days=20)
    entries = FollowUpEntry.objects.exclude(kind=FollowUpEntry.Kind.NOTE)
    # Every line the demo wrote for Closeloop is a worded line, as the live cases' are.
    assert set(entries.values_list("wording", flat=True)) == {
        "routed",
        "assigned",
        "sla_breached",
        "resolved",
        "resolved_with_note",
    }
    case = entries.filter(wording="sla_breached").first().follow_up
    manager = User.objects.get(email=DEMO_LOGINS[0][0])
    User.objects.filter(pk=manager.pk).update(language="fr")
    client.force_login(manager)

    html = client.get(f"/follow-ups/{case.pk}/").content.decode()

    assert "Escaladé : Le délai (SLA) est dépassé.</li>" in html
    assert f"Créé : Routé par la règle {escape(str(case.rule))}</li>" in html
    assert "The SLA is breached." not in html and "Routed by rule" not in html
