import base64
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from insights import selectors
from insights.rollups import rollup_rebuild
from surveys.services.api_keys import api_key_create
from tests.factories import EventFactory, InvitationFactory, MessageFactory, ResponseFactory, SurveyFactory

NOW = datetime(2026, 11, 10, 12, tzinfo=UTC)


def _client(survey=None) -> APIClient:
    raw = api_key_create(name="metrics", survey=survey)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{raw}:".encode()).decode())
    return client


def _answer(survey, score, at=NOW, event_type="purchase"):
    invitation = InvitationFactory(survey=survey, event=EventFactory(type=event_type))
    return ResponseFactory(invitation=invitation, score=score, confirmed_at=at)


@pytest.fixture
def survey(db):
    survey = SurveyFactory(kind="nps")
    for score in (10, 9, 9, 8, 2):
        _answer(survey, score)
    _answer(survey, 0, at=NOW - timedelta(days=10), event_type="ticket")
    _answer(SurveyFactory(kind="nps"), 0)  # another survey
    rollup_rebuild()
    return survey


@pytest.mark.django_db
def test_metrics_needs_a_key(client):
    response = client.get("/v1/metrics.json")
    assert response.status_code == 401


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_metrics_counts_the_keys_survey(survey):
    response = _client(survey).get("/v1/metrics.json")
    assert response.status_code == 200
    # 3 promoters, 1 passive, 2 detractors of 6: 50% - 33.3% = 16.7 → 17.
    assert response.json() == {
        "nps": 17,
        "promoter_count": 3,
        "promoter_percent": 50.0,
        "passive_count": 1,
        "passive_percent": 16.7,
        "detractor_count": 2,
        "detractor_percent": 33.3,
        "response_count": 6,
    }


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_metrics_since_until_select_whole_days_like_the_dashboard(survey):
    since = int(datetime(2026, 11, 4, 15, tzinfo=UTC).timestamp())
    until = int(NOW.timestamp())
    body = _client(survey).get("/v1/metrics", {"since": since, "until": until}).json()
    assert (body["response_count"], body["nps"], body["detractor_count"]) == (5, 40, 1)
    dashboard = selectors.scores(
        selectors.Filters(start=date(2026, 11, 4), end=date(2026, 11, 10), survey_ids=(survey.pk,))
    ).nps
    assert (dashboard.total, dashboard.nps, dashboard.detractors) == (5, 40.0, 1)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_metrics_trend_narrows_to_an_event_type(survey):
    body = _client(survey).get("/v1/metrics", {"trend": "ticket"}).json()
    assert (body["response_count"], body["detractor_count"], body["nps"]) == (1, 1, -100)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_metrics_key_without_survey_counts_every_nps_survey(survey):
    assert _client().get("/v1/metrics").json()["response_count"] == 7


@pytest.mark.django_db
def test_metrics_of_no_answers_is_zeroes(db):
    body = _client(SurveyFactory()).get("/v1/metrics").json()
    assert (body["nps"], body["response_count"], body["promoter_percent"]) == (0, 0, 0.0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [({"since": 10, "until": 5}, "until"), ({"since": "yesterday"}, "since"), ({"until": -1}, "until")],
)
def test_metrics_bad_params_are_400_with_the_field(params, field):
    response = _client(SurveyFactory()).get("/v1/metrics", params)
    assert response.status_code == 400
    assert field in str(response.json())


@pytest.mark.django_db
def test_metrics_key_without_survey_leaves_out_a_did_we_fix_it_nps_survey(survey):
    fix_check = SurveyFactory(kind="nps", is_fix_check=True)
    _answer(fix_check, 0)
    rollup_rebuild()

    assert _client().get("/v1/metrics").json()["response_count"] == 7
    assert _client(fix_check).get("/v1/metrics").json()["response_count"] == 1


@pytest.fixture
def channels(db):
    """Answers of one NPS survey on email (9, 3) and the web widget (10; one card shown unanswered)."""
    survey = SurveyFactory(kind="nps")
    with time_machine.travel(NOW, tick=False):  # the funnel counts invitations by the day they were created
        for channel, score in (("email", 9), ("email", 3), ("web", 10)):
            message = MessageFactory(status="delivered", sent_at=NOW) if channel == "email" else None
            invitation = InvitationFactory(survey=survey, channel=channel, message=message)
            ResponseFactory(invitation=invitation, score=score, confirmed_at=NOW)
        InvitationFactory(survey=survey, channel="web")
        rollup_rebuild()
    return survey


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_metrics_groups_give_each_channel_under_its_name_and_core_at_the_top(channels):
    response = _client(channels).get("/v1/metrics.json?groups[]=core&groups[]=web&groups[]=sms")

    assert response.status_code == 200
    body = response.json()
    assert (body["nps"], body["response_count"]) == (33, 3)
    assert body["web"] == {
        "sent_count": 2,
        "delivered_count": 2,
        "opened_count": 0,
        "bounced_count": 0,
        "responded_count": 1,
        "response_percent": 50.0,
        "nps": 100,
        "promoter_count": 1,
        "promoter_percent": 100.0,
        "passive_count": 0,
        "passive_percent": 0.0,
        "detractor_count": 0,
        "detractor_percent": 0.0,
        "response_count": 1,
    }
    assert body["sms"]["sent_count"] == 0 and body["sms"]["response_count"] == 0
    assert set(body) == {*metrics_fields(), "web", "sms"}


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_metrics_a_channel_group_alone_leaves_core_out(channels):
    body = _client(channels).get("/v1/metrics.json", {"groups[]": ["email"]}).json()

    assert list(body) == ["email"]
    assert (body["email"]["sent_count"], body["email"]["responded_count"], body["email"]["nps"]) == (2, 2, 0)


@pytest.mark.django_db
def test_metrics_an_unknown_group_is_a_400_naming_it(channels):
    response = _client(channels).get("/v1/metrics.json?groups[]=fax")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["groups.0"]


def metrics_fields() -> set[str]:
    return {
        "nps",
        "promoter_count",
        "promoter_percent",
        "passive_count",
        "passive_percent",
        "detractor_count",
        "detractor_percent",
        "response_count",
    }
