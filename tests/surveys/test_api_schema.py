"""The OpenAPI schema is valid and no generated request makes the native API answer 5xx."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from tests.factories import SurveyFactory, TriggerRuleFactory


def test_api_schema_is_valid_openapi(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    validate_schema(response.json())
    assert sorted(response.json()["paths"]) == [
        "/api/api-keys/",
        "/api/api-keys/{id}/",
        "/api/api-keys/{id}/revoke/",
        "/api/audit-trail/",
        "/api/audit-trail/{id}/",
        "/api/branding/",
        "/api/canned-replies/",
        "/api/canned-replies/{id}/",
        "/api/connectors/",
        "/api/connectors/{id}/",
        "/api/connectors/{id}/check-zendesk/",
        "/api/connectors/{id}/deliveries/",
        "/api/connectors/{id}/retry-zendesk-notes/",
        "/api/connectors/{id}/test-delivery/",
        "/api/contacts/",
        "/api/contacts/{id}/",
        "/api/contacts/{id}/export/",
        "/api/events/",
        "/api/events/batch/",
        "/api/events/batches/",
        "/api/events/batches/{public_id}/",
        "/api/follow-ups/",
        "/api/follow-ups/{follow_up_id}/",
        "/api/follow-ups/{follow_up_id}/notes/",
        "/api/follow-ups/{follow_up_id}/replies/",
        "/api/follow-ups/{follow_up_id}/resolve/",
        "/api/follow-ups/{follow_up_id}/thread/",
        "/api/publishable-keys/",
        "/api/publishable-keys/{id}/",
        "/api/publishable-keys/{id}/revoke/",
        "/api/responses/",
        "/api/responses/{id}/",
        "/api/root-causes/",
        "/api/root-causes/{id}/",
        "/api/routing-rules/",
        "/api/routing-rules/dry-run/",
        "/api/routing-rules/{id}/",
        "/api/slack-channels/",
        "/api/surveys/",
        "/api/surveys/{id}/",
        "/api/surveys/{id}/branding/",
        "/api/surveys/{id}/duplicate/",
        "/api/surveys/{id}/link/",
        "/api/teams/",
        "/api/teams/{id}/",
        "/api/theme-candidates/",
        "/api/theme-candidates/{candidate_id}/dismiss/",
        "/api/theme-candidates/{candidate_id}/promote/",
        "/api/themes/",
        "/api/themes/{slug}/",
        "/api/themes/{slug}/merge/",
        "/api/trigger-rules/",
        "/api/trigger-rules/{id}/",
        "/api/users/",
        "/api/users/{id}/",
        "/api/webhook-subscriptions/",
        "/api/webhook-subscriptions/{id}/",
        "/api/webhook-subscriptions/{id}/deliveries/",
        "/api/webhook-subscriptions/{id}/deliveries/{delivery_id}/replay/",
        "/api/webhook-subscriptions/{id}/rotate-secret/",
        "/v1/autopilot/{platform}",
        "/v1/autopilot/{platform}/memberships",
        "/v1/bounces",
        "/v1/metrics",
        "/v1/people",
        "/v1/people/{email}/survey_requests/pending",
        "/v1/people/{identifier}",
        "/v1/survey_responses",
        "/v1/survey_responses/{id}",
        "/v1/unsubscribes",
        "/web/v1/{key}/answer",
        "/web/v1/{key}/survey",
    ]


def test_api_schema_documents_every_v1_operation_under_its_tag(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    v1 = {
        (method.upper(), path) for path, operations in paths.items() if path.startswith("/v1/") for method in operations
    }
    assert v1 == {
        ("GET", "/v1/metrics"),
        ("GET", "/v1/people"),
        ("POST", "/v1/people"),
        ("DELETE", "/v1/people/{identifier}"),
        ("DELETE", "/v1/people/{email}/survey_requests/pending"),
        ("GET", "/v1/survey_responses"),
        ("POST", "/v1/survey_responses"),
        ("GET", "/v1/survey_responses/{id}"),
        ("PUT", "/v1/survey_responses/{id}"),
        ("GET", "/v1/autopilot/{platform}"),
        ("GET", "/v1/autopilot/{platform}/memberships"),
        ("POST", "/v1/autopilot/{platform}/memberships"),
        ("DELETE", "/v1/autopilot/{platform}/memberships"),
        ("GET", "/v1/unsubscribes"),
        ("POST", "/v1/unsubscribes"),
        ("GET", "/v1/bounces"),
    }
    assert {
        tag for path, ops in paths.items() if path.startswith("/v1/") for op in ops.values() for tag in op["tags"]
    } == {"Delighted-compatible"}
    assert paths["/v1/people"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PersonCreate"
    }


def test_api_schema_generates_without_warnings(capsys):
    GENERATOR_STATS.reset()

    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert not GENERATOR_STATS, capsys.readouterr().err
    metrics = schema["paths"]["/v1/metrics"]["get"]
    assert [parameter["name"] for parameter in metrics["parameters"]] == ["groups", "since", "trend", "until"]
    assert metrics["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Metrics"
    }


@pytest.fixture
def keep_test_connection():
    """Calls through the WSGI app, as Django's test client does, must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_api_no_input_yields_5xx(api_key, keep_test_connection):
    TriggerRuleFactory(event_type="purchase", survey=SurveyFactory())
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    headers = {"Authorization": f"Bearer {api_key[1]}"}
    operations = [result.ok() for result in schema.get_all_operations()]

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        call()

    assert len(operations) >= 8


def test_api_docs_page_is_served(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
