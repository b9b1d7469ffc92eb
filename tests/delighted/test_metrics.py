import base64
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from insights import selectors
from insights.rollups import rollup_rebuild
from surveys.services.api_keys import api_key_create
from tests.factories import EventFactory, InvitationFactory, ResponseFactory, SurveyFactory

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
