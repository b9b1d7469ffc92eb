"""Malformed bodies on the APIs: 4xx with the JSON error shape, never a 500 or an HTML page."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from surveys.services.api_keys import api_key_create
from tests.factories import SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def native(api_client):
    return api_client


@pytest.fixture
def v1():
    import base64

    raw = api_key_create(name="v1", survey=SurveyFactory())[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(raw.encode()).decode())
    return client


def raw_post(client, path: str, body: str):
    return client.generic("POST", path, body.encode(), content_type="application/json")


EVENT = '{"type": "purchase", "contact": {"email": "a@example.com"}, "properties": {"n": %s}}'


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity", "1" * 40])
def test_native_api_numbers_out_of_range_are_400(native, number):
    response = raw_post(native, "/api/events/", EVENT % number)

    assert response.status_code == 400
    assert response.json()["errors"] == {}
    assert response.json()["message"].startswith("JSON parse error")


def test_delighted_score_of_1e400_is_422(v1):
    response = raw_post(v1, "/v1/survey_responses.json", '{"person": "1", "score": 1e400}')

    assert response.status_code == 422
    assert response.json()["status"] == 422


@pytest.mark.parametrize("path", ["/api/events/", "/api/events/batch/", "/v1/people.json"])
def test_json_nested_a_thousand_deep_is_a_4xx_json(native, v1, path):
    client = v1 if path.startswith("/v1/") else native
    body = '{"properties": ' + "[" * 1000 + "]" * 1000 + "}"

    response = raw_post(client, path, body)

    assert response.status_code in (400, 422)
    assert "nested deeper" in response.json()["message"]


@pytest.mark.parametrize("path", ["/api/events/", "/v1/people.json"])
def test_body_over_the_upload_limit_is_413_json(native, v1, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = v1 if path.startswith("/v1/") else native
    body = json.dumps({"type": "purchase", "contact": {"email": "a@example.com"}, "properties": {"x": "y" * 2000}})

    response = raw_post(client, path, body)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "larger than 1000 bytes" in response.json()["message"]


def test_body_over_the_upload_limit_with_an_idempotency_key_is_413_json(native, settings):
    # The idempotency check hashes `request.body`, where Django itself refuses the size.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"type": "purchase", "contact": {"email": "a@example.com"}, "properties": {"x": "y" * 2000}})

    response = native.generic(
        "POST", "/api/events/", body.encode(), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
    )

    assert response.status_code == 413
    assert response.json()["errors"] == {}


def test_form_body_over_the_upload_limit_is_413_json(v1, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = v1.post("/v1/people.json", {"email": "a@example.com", "name": "n" * 500})

    assert response.status_code == 413
    assert response.json()["status"] == 413


def _depth_walked(text: str, limit: int) -> bool:
    """The character-by-character walk `_too_deep` replaces: the reference its answers are held to."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


@given(text=st.text(alphabet='[]{}"\\a\n,:', max_size=60), limit=st.integers(0, 4))
@settings(max_examples=2000, deadline=None)
def test_too_deep_answers_as_a_walk_of_every_character(text, limit):
    from config.parsers import _too_deep

    assert _too_deep(text, limit) == _depth_walked(text, limit)
