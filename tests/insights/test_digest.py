from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from feedback.models import User
from insights.digest import digest_send_weekly
from insights.rollups import rollup_rebuild
from tests.factories import ManagerFactory, ResponseFactory, SurveyFactory

MONDAY = datetime(2026, 11, 16, 8, tzinfo=UTC)


@pytest.fixture
def last_week(db):
    survey = SurveyFactory(kind="nps")
    for score in (10, 10, 9, 3):
        ResponseFactory(invitation__survey=survey, score=score, confirmed_at=MONDAY - timedelta(days=3))
    ResponseFactory(invitation__survey=survey, score=0, confirmed_at=MONDAY)  # this week: not in the digest
    rollup_rebuild()


@pytest.mark.django_db
@time_machine.travel(MONDAY, tick=False)
def test_digest_goes_to_opted_in_managers_once_per_week(last_week, outbox, django_capture_on_commit_callbacks):
    ManagerFactory(email="boss@closeloop.test", wants_weekly_digest=True)
    ManagerFactory(email="quiet@closeloop.test")
    with django_capture_on_commit_callbacks(execute=True):
        assert digest_send_weekly() == 1
        assert digest_send_weekly() == 0
    assert [message.recipient for message in outbox] == ["boss@closeloop.test"]
    assert outbox[0].subject == "Closeloop week of 9 Nov: 4 answers, NPS 50.0"
    assert "NPS: 50.0 ±" in outbox[0].body_text
    assert "http://testserver/dashboard/?period=custom&start=2026-11-09&end=2026-11-15" in outbox[0].body_text
    assert User.objects.get(email="boss@closeloop.test").digest_sent_for == date(2026, 11, 9)


@pytest.mark.django_db
@time_machine.travel(MONDAY, tick=False)
def test_each_manager_reads_the_digest_in_their_own_language(last_week, outbox, django_capture_on_commit_callbacks):
    ManagerFactory(email="anne@closeloop.test", wants_weekly_digest=True, language="fr")
    ManagerFactory(email="boss@closeloop.test", wants_weekly_digest=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert digest_send_weekly() == 2

    sent = {message.recipient: message for message in outbox}
    french = sent["anne@closeloop.test"]
    assert french.subject == "Closeloop, semaine du 9 Nov : 4 réponses, NPS 50,0"
    assert "NPS : 50,0 ±" not in french.body_text and "NPS: 50,0 ±" in french.body_text
    assert "(3 promoteurs, 0 passifs, 1 détracteurs)" in french.body_text
    assert "Par rapport à la semaine précédente :" in french.body_text
    assert "<h1>Votre semaine dans Closeloop</h1>" in french.body_html
    assert sent["boss@closeloop.test"].subject == "Closeloop week of 9 Nov: 4 answers, NPS 50.0"


@pytest.mark.django_db
def test_digest_the_next_week_goes_again(last_week, outbox, django_capture_on_commit_callbacks):
    ManagerFactory(wants_weekly_digest=True, digest_sent_for=date(2026, 11, 2))
    with time_machine.travel(MONDAY, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert digest_send_weekly() == 1


@pytest.mark.django_db
def test_digest_subscription_toggles_for_a_manager(client, manager):
    client.force_login(manager)
    assert client.post(reverse("dashboard-digest"), {"wants": "1"}).status_code == 302
    manager.refresh_from_db()
    assert manager.wants_weekly_digest
    client.post(reverse("dashboard-digest"), {"wants": "0"})
    manager.refresh_from_db()
    assert not manager.wants_weekly_digest


@pytest.mark.django_db
def test_digest_subscription_is_for_managers_only(client, agent):
    assert client.post(reverse("dashboard-digest"), {"wants": "1"}).status_code == 302  # to the login page
    client.force_login(agent)
    assert client.post(reverse("dashboard-digest"), {"wants": "1"}).status_code == 403


@pytest.mark.django_db
@time_machine.travel(MONDAY, tick=False)
def test_digest_names_the_themes_that_moved_most(outbox, django_capture_on_commit_callbacks):
    from insights.theme_rollups import rollup_count_themes

    survey = SurveyFactory(kind="nps")
    for days_ago, themes in ((3, ["delivery"]), (3, ["delivery"]), (10, ["price"]), (10, ["delivery"])):
        response = ResponseFactory(
            invitation__survey=survey, score=2, comment="c", themes=themes, analysed_at=MONDAY,
            confirmed_at=MONDAY - timedelta(days=days_ago),
        )  # fmt: skip
        rollup_count_themes(response_id=response.pk)
    ManagerFactory(email="boss@closeloop.test", wants_weekly_digest=True)

    with django_capture_on_commit_callbacks(execute=True):
        digest_send_weekly()

    body = outbox[0].body_text
    assert "- Delivery: 100.0% (was 50.0%, +50.0 points)" in body
    assert "- Price: 0.0% (was 50.0%, -50.0 points)" in body
