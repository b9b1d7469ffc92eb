"""Property-based fuzzing of every API and form outside the OpenAPI schema's reach (the native API's own
schema is fuzzed by schemathesis in tests/surveys/test_api_schema.py): hostile JSON bodies, extreme query
parameters and form values never make a 5xx; the APIs always answer their JSON error shape.
In-process (Django's test client), no network."""

import base64
import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from surveys.services.api_keys import api_key_create
from surveys.services.publishable_keys import publishable_key_create
from surveys.tokens import invitation_token
from tests.conftest import BROWSER_USER_AGENT
from tests.factories import (
    InvitationFactory,
    ManagerFactory,
    ResponseFactory,
    SurveyFactory,
    SurveyLinkFactory,
    TriggerRuleFactory,
)

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\x00", "a\x00b", "=HYPERLINK(1)", "x" * 300, "1e400", "-1", "99999999999999999999", "NaN"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4), max_leaves=12
)
RAW_BODIES = st.one_of(
    json_values.map(json.dumps),
    st.sampled_from(
        [
            '{"score": 1e400}',
            '{"properties": ' + "[" * 1000 + "]" * 1000 + "}",
            '{"a": NaN}',
            '{"email": "' + "a" * 300 + '@example.com"}',
            '{"person": "1", "score": 99999999999999999999999999999999}',
            "not json",
            "",
        ]
    ),
)
QUERY = st.dictionaries(
    st.sampled_from(
        [
            "per_page",
            "page",
            "since",
            "until",
            "updated_since",
            "trend",
            "person_id",
            "person_email",
            "order",
            "page_info",
            "email",
            "phone_number",
            "survey",
            "period",
            "start",
            "end",
            "score",
            "status",
            "band",
            "by",
            "groups[]",
        ]
    ),
    st.one_of(texts, st.sampled_from(["0001-01-01", "9999-12-31", "-5", "1" * 40, "2026-02-30"])),
    max_size=4,
)

V1_POSTS = [
    "/v1/people.json",
    "/v1/survey_responses.json",
    "/v1/unsubscribes.json",
    "/v1/autopilot/email/memberships.json",
]
V1_GETS = [
    "/v1/people.json",
    "/v1/survey_responses.json",
    "/v1/unsubscribes.json",
    "/v1/bounces.json",
    "/v1/metrics.json",
    "/v1/autopilot/email/memberships.json",
]
NATIVE_POSTS = ["/api/events/", "/api/events/batch/", "/api/trigger-rules/"]


@pytest.fixture
def clients():
    survey = SurveyFactory(kind="nps")
    TriggerRuleFactory(event_type="purchase", survey=survey)
    ResponseFactory(invitation__survey=survey, score=3)
    raw = api_key_create(name="fuzz", survey=survey)[1]
    v1 = APIClient()
    v1.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(raw.encode()).decode())
    native = APIClient()
    native.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return v1, native


def _json_error(response, v1: bool) -> None:
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        body = response.json()
        assert "message" in body and "errors" in body
        if v1:
            assert body["status"] == response.status_code


@pytest.mark.parametrize("path", V1_POSTS + NATIVE_POSTS)
def test_api_bodies_never_5xx_and_errors_are_json(clients, path):
    v1, native = clients
    client = v1 if path.startswith("/v1/") else native

    @given(body=RAW_BODIES)
    @FUZZ
    def post(body):
        _json_error(
            client.generic("POST", path, body.encode(), content_type="application/json"), path.startswith("/v1/")
        )

    post()


@pytest.mark.parametrize("path", V1_GETS + ["/api/follow-ups/", "/api/responses/", "/api/contacts/"])
def test_api_query_parameters_never_5xx(clients, path):
    v1, native = clients
    client = v1 if path.startswith("/v1/") else native

    @given(query=QUERY)
    @FUZZ
    def get(query):
        # /v1/metrics answers the native error shape (400, no `status`), as documented.
        _json_error(client.get(path, query), path.startswith("/v1/") and "metrics" not in path)

    get()


@pytest.mark.parametrize("endpoint", ["survey", "answer"])
def test_web_widget_bodies_never_5xx_and_errors_are_json(settings, endpoint):
    settings.WEB_WIDGET_RATE_LIMIT_PER_MINUTE = 10**6
    origin = "https://app.example"
    key = publishable_key_create(name="fuzz", survey=SurveyFactory(kind="nps"), allowed_origins=[origin])
    client = Client()
    token = client.post(
        f"/web/v1/{key.key}/survey", {"visitor": "fuzz-visitor"}, content_type="application/json", HTTP_ORIGIN=origin
    ).json()["token"]
    # Half the bodies carry the card's real token, so that the answer's own fields are reached.
    fields = st.sampled_from(
        ["score", "comment", "question", "value", "email", "name", "properties", "createdAt", "recurringPeriod"]
        + ["sampleFactor", "initialDelay", "forceDisplay", "visitor"]
    )
    bodies = st.one_of(
        RAW_BODIES, st.dictionaries(fields | texts, json_values, max_size=4).map(lambda d: {**d, "token": token})
    )

    @given(body=bodies)
    @FUZZ
    def post(body):
        raw = body if isinstance(body, str) else json.dumps(body)
        response = client.generic(
            "POST", f"/web/v1/{key.key}/{endpoint}", raw.encode(), content_type="application/json", HTTP_ORIGIN=origin
        )
        _json_error(response, v1=False)

    post()


def test_respondent_page_forms_never_5xx():
    invitation = InvitationFactory(survey=SurveyFactory(kind="nps"))
    url = f"/s/{invitation_token(invitation.public_id)}/"
    person = Client(HTTP_USER_AGENT=BROWSER_USER_AGENT)

    @given(
        fields=st.fixed_dictionaries(
            {"step": st.sampled_from(["", "score", "comment", "question", "thanks", "change"])},
            optional={"score": texts, "comment": texts, "q": texts, "value": texts, "change": texts, "auto": texts},
        )
    )
    @FUZZ
    def post(fields):
        assert person.post(url, fields).status_code < 500
        assert person.get(url, fields).status_code < 500

    post()


def test_public_link_and_kiosk_forms_never_5xx(settings):
    settings.RESPONDENT_RATE_LIMIT_PER_MINUTE = 10**6
    link = SurveyLinkFactory(slug="fuzzed", survey=SurveyFactory(kind="csat"), kiosk_enabled=True)
    person = Client(HTTP_USER_AGENT=BROWSER_USER_AGENT)
    started = person.post(f"/l/{link.slug}/", {"step": "score", "score": "2"})
    answer = started["Location"].split("?")[0]

    @given(
        kiosk=st.sampled_from(["", "?kiosk=1", "?kiosk=1&lang=fr", "?lang=xx"]),
        fields=st.fixed_dictionaries(
            {"step": st.sampled_from(["", "score", "comment", "question", "thanks"])},
            optional={"score": texts, "comment": texts, "contact_email": texts, "q": texts, "value": texts},
        ),
    )
    @FUZZ
    def post(kiosk, fields):
        assert Client(HTTP_USER_AGENT=BROWSER_USER_AGENT).post(f"/l/{link.slug}/{kiosk}", fields).status_code < 500
        assert person.get(f"/l/{link.slug}/{kiosk}", fields).status_code < 500
        assert person.post(answer, fields).status_code < 500

    post()


def test_staff_forms_never_5xx():
    client = Client()
    client.force_login(ManagerFactory())

    @given(query=QUERY)
    @FUZZ
    def get(query):
        for path in (
            "/follow-ups/",
            "/dashboard/",
            "/dashboard/export/responses.csv",
            "/dashboard/export/follow-ups.csv",
        ):
            assert client.get(path, query).status_code < 500

    get()


def test_sign_in_form_never_5xx():
    @given(username=texts, password=texts)
    @FUZZ
    def post(username, password):
        assert Client().post("/accounts/login/", {"username": username, "password": password}).status_code < 500

    post()
