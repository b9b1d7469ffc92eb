"""Property-based fuzzing of the connectors' surfaces: hostile JSON to `/api/connectors/`, and hostile bodies
correctly signed for each source to `/hooks/<connector>/` (so they pass verification and reach the mapping),
never make a 5xx; the API answers its JSON error shape. In-process, no network."""

import json

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from integrations.connectors import connector_save
from integrations.models import ConnectorDelivery
from surveys.services.api_keys import api_key_create
from tests.integrations.signing import generic_headers, shopify_headers, stripe_headers, zendesk_headers
from tests.test_fuzz import FUZZ, RAW_BODIES, json_values, texts

pytestmark = pytest.mark.django_db

CONNECTOR_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.one_of(st.sampled_from(["shopify", "zendesk", "stripe", "generic"]), json_values),
        "name": json_values,
        "secret": json_values,
        "event_type": json_values,
        "field_map": json_values,
        "is_active": json_values,
        "zendesk_writeback": json_values,
        "zendesk_email": json_values,
        "zendesk_api_token": json_values,
    },
)
# Shaped like the sources' bodies, with hostile values where the mapping reads.
SHAPED = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "id": json_values,
            "email": json_values,
            "phone": json_values,
            "customer": st.dictionaries(st.sampled_from(["email", "first_name", "phone"]), json_values),
            "line_items": st.lists(st.one_of(json_values, st.dictionaries(st.just("title"), json_values)), max_size=3),
            "customer_locale": json_values,
            "ticket_id": json_values,
            "status": json_values,
            "tags": json_values,
            "requester_email": json_values,
            "type": st.one_of(st.sampled_from(["checkout.session.completed", "customer.subscription.deleted"]), texts),
            "data": st.one_of(json_values, st.fixed_dictionaries({"object": json_values})),
        },
    ).map(json.dumps),
    RAW_BODIES,
)
SIGNERS = {"shopify": shopify_headers, "zendesk": zendesk_headers, "stripe": stripe_headers, "generic": generic_headers}


def test_connector_api_bodies_never_5xx_and_errors_are_json():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(name='fuzz')[1]}")

    @given(fields=CONNECTOR_FIELDS)
    @FUZZ
    def post(fields):
        answer = client.post("/api/connectors/", fields, format="json")
        assert answer.status_code < 500, answer.content[:300]
        if answer.status_code >= 400:
            assert set(answer.json()) >= {"message", "errors"}

    post()


@pytest.mark.parametrize("kind", ["shopify", "zendesk", "stripe", "generic"])
def test_signed_hostile_deliveries_never_5xx(kind, django_capture_on_commit_callbacks):
    connector = connector_save(
        name="Fuzz",
        kind=kind,
        secret="s3cret",
        event_type="fuzzed" if kind == "generic" else "",
        field_map={"email": "/email", "phone": "/phone", "properties": {"items": "/line_items"}}
        if kind == "generic"
        else {},
    )
    client = Client()
    sign = SIGNERS[kind]

    @given(body=SHAPED)
    @FUZZ
    def post(body):
        raw = body.encode()
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.post(
                f"/hooks/{connector.public_id}/", raw, content_type="application/json", **sign("s3cret", raw)
            )
        assert answer.status_code in (200, 400), answer.content[:300]

    post()
    assert not ConnectorDelivery.objects.filter(status="received").exists()
