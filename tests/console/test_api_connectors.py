"""`/api/connectors/`: managers and admin-scoped API keys create, read, change and delete connectors."""

import json

import pytest
from rest_framework.test import APIClient

from console.models import AuditEntry
from integrations.connectors import connector_refusal_record
from integrations.models import Connector, ConnectorDelivery
from surveys.models import ApiKey
from surveys.services.api_keys import api_key_create
from tests.factories import TriggerRuleFactory

pytestmark = pytest.mark.django_db


def key_client(scopes) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(name='ops', scopes=scopes)[1]}")
    return client


@pytest.fixture
def admin():
    return key_client([ApiKey.Scope.ADMIN])


def test_connectors_are_for_managers_and_admin_keys(agent, manager):
    assert APIClient().get("/api/connectors/").status_code == 401
    assert key_client([ApiKey.Scope.EVENTS_WRITE]).get("/api/connectors/").status_code == 403
    session = APIClient()
    session.force_login(agent)
    assert session.get("/api/connectors/").status_code == 403
    session.force_login(manager)
    assert session.get("/api/connectors/").status_code == 200


def test_create_a_shopify_connector_gives_its_url_and_setup_steps(admin):
    answer = admin.post("/api/connectors/", {"kind": "shopify", "name": "Shop", "secret": "shpss_abc"}, format="json")
    assert answer.status_code == 201
    connector = Connector.objects.get()
    body = answer.json()
    assert body["id"] == connector.pk
    assert body["url"] == f"http://testserver/hooks/{connector.public_id}/"
    assert (body["secret"], body["has_secret"], body["event_type"], body["zendesk_body"]) == (
        "shpss_abc",
        True,
        "",
        None,
    )
    assert body["setup_steps"][1] == (
        f"Event: Order fulfillment (topic orders/fulfilled). Format: JSON. URL: {body['url']}. "
        "API version: the latest stable one."
    )
    assert "zendesk_api_token" not in body
    # Later answers never show the secret again.
    assert "secret" not in admin.get(f"/api/connectors/{connector.pk}/").json()


def test_a_generic_connector_without_a_secret_gets_one_shown_once(admin):
    answer = admin.post(
        "/api/connectors/",
        {"kind": "generic", "name": "Backend", "event_type": "signup", "field_map": {"email": "/user/email"}},
        format="json",
    )
    assert answer.status_code == 201
    assert answer.json()["secret"] == Connector.objects.get().secret
    assert answer.json()["secret"].startswith("clsec_")


def test_bad_input_is_a_field_level_400_and_stores_nothing(admin):
    answer = admin.post(
        "/api/connectors/",
        {"kind": "generic", "name": "Backend", "field_map": {"email": "user/email", "colour": "/c"}},
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["errors"] == {
        "event_type": ["A generic connector needs the event type its deliveries become."],
        "field_map": [
            "Unknown field colour; use email, phone, name, locale, external_id, event_id, occurred_at or properties."
        ],
        "field_map.email": ["“user/email” is not a JSON pointer: it must start with /, e.g. /customer/email."],
    }
    answer = admin.post("/api/connectors/", {"kind": "paypal", "name": "X"}, format="json")
    assert answer.json()["errors"] == {"kind": ['"paypal" is not a valid choice.']}
    answer = admin.post(
        "/api/connectors/", {"kind": "zendesk", "name": "Support", "zendesk_writeback": True}, format="json"
    )
    assert answer.json()["errors"] == {
        "zendesk_url": ["Give your Zendesk address, e.g. https://yourcompany.zendesk.com."],
        "zendesk_email": ["Give the email of the agent the API token belongs to."],
        "zendesk_api_token": ["Give a Zendesk API token (Admin Center → Apps and integrations → Zendesk API)."],
    }
    assert not Connector.objects.exists()


def test_zendesk_write_back_refuses_a_private_address(admin, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    answer = admin.post(
        "/api/connectors/",
        {
            "kind": "zendesk",
            "name": "Support",
            "zendesk_writeback": True,
            "zendesk_url": "https://127.0.0.1",
            "zendesk_email": "agent@example.com",
            "zendesk_api_token": "t",
        },
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["errors"] == {
        "zendesk_url": ["127.0.0.1 resolves to 127.0.0.1, a private, loopback or link-local address."]
    }


def test_update_keeps_the_secret_when_blank_and_kind_cannot_change(admin):
    connector_id = admin.post(
        "/api/connectors/", {"kind": "stripe", "name": "Billing", "secret": "whsec_1"}, format="json"
    ).json()["id"]
    answer = admin.patch(f"/api/connectors/{connector_id}/", {"name": "Payments", "secret": ""}, format="json")
    assert answer.status_code == 200
    assert (answer.json()["name"], Connector.objects.get().secret) == ("Payments", "whsec_1")
    admin.patch(f"/api/connectors/{connector_id}/", {"secret": "whsec_2"}, format="json")
    assert Connector.objects.get().secret == "whsec_2"
    answer = admin.patch(f"/api/connectors/{connector_id}/", {"kind": "shopify"}, format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"] == {"kind": ["A connector's kind cannot change: create another connector."]}


def test_refusals_are_shown(admin):
    connector_id = admin.post(
        "/api/connectors/", {"kind": "stripe", "name": "Billing", "secret": "whsec_1"}, format="json"
    ).json()["id"]
    connector_refusal_record(connector=Connector.objects.get(), reason="Stripe: No signatures found")
    body = admin.get(f"/api/connectors/{connector_id}/").json()
    assert (body["refused_count"], body["last_refused_reason"]) == (1, "Stripe: No signatures found")


def test_test_delivery_and_the_delivery_log(admin):
    rule = TriggerRuleFactory(event_type="purchase")
    connector_id = admin.post(
        "/api/connectors/", {"kind": "stripe", "name": "Billing", "secret": "whsec_1"}, format="json"
    ).json()["id"]
    answer = admin.post(f"/api/connectors/{connector_id}/test-delivery/")
    assert answer.status_code == 201
    assert answer.json()["status"] == "test"
    assert answer.json()["detail"] == (
        "Test: signature verified; the sample becomes purchase for test.customer@example.com; "
        f"it would match trigger rule(s) #{rule.pk}. Nothing was sent."
    )
    log = admin.get(f"/api/connectors/{connector_id}/deliveries/").json()
    assert [item["id"] for item in log["results"]] == [answer.json()["id"]]
    assert log["results"][0]["topic"] == "checkout.session.completed"


def test_a_test_delivery_without_a_secret_says_so(admin):
    connector_id = admin.post("/api/connectors/", {"kind": "shopify", "name": "Shop"}, format="json").json()["id"]
    answer = admin.post(f"/api/connectors/{connector_id}/test-delivery/")
    assert answer.json()["detail"] == "Test refused: The connector has no secret yet: set it in Closeloop first."


def test_delete_removes_the_connector_and_its_log(admin):
    connector_id = admin.post(
        "/api/connectors/", {"kind": "shopify", "name": "Shop", "secret": "s"}, format="json"
    ).json()["id"]
    admin.post(f"/api/connectors/{connector_id}/test-delivery/")
    assert admin.delete(f"/api/connectors/{connector_id}/").status_code == 204
    assert (Connector.objects.count(), ConnectorDelivery.objects.count()) == (0, 0)


def test_connectors_are_in_the_openapi_schema(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert set(paths["/api/connectors/"]) == {"get", "post"}
    assert set(paths["/api/connectors/{id}/test-delivery/"]) == {"post"}
    assert set(paths["/api/connectors/{id}/deliveries/"]) == {"get"}


def test_connector_writes_are_in_the_audit_trail_without_their_secrets(admin):
    connector_id = admin.post(
        "/api/connectors/", {"kind": "stripe", "name": "Billing", "secret": "whsec_1"}, format="json"
    ).json()["id"]
    admin.patch(f"/api/connectors/{connector_id}/", {"name": "Payments", "secret": "whsec_2"}, format="json")
    admin.patch(f"/api/connectors/{connector_id}/", {"secret": ""}, format="json")  # keeps it: nothing changed
    admin.delete(f"/api/connectors/{connector_id}/")
    entries = list(AuditEntry.objects.filter(object_type="connector").order_by("pk"))
    assert [(entry.action, entry.object_id) for entry in entries] == [
        ("created", str(connector_id)),
        ("updated", str(connector_id)),
        ("deleted", str(connector_id)),
    ]
    assert entries[0].actor_label.startswith("API key ops (")
    assert entries[0].changes["secret"] == [None, "set"]
    assert entries[1].changes == {"name": ["Billing", "Payments"], "secret": ["set", "changed"]}
    assert "whsec" not in json.dumps([entry.changes for entry in entries])
