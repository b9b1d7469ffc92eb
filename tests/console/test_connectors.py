"""The connector pages: a manager creates a connector, reads its address and setup steps, changes it, sends a
test delivery and reads the delivery log; bad input shows the form again, never a 500 or a half-written row."""

import re

import pytest

from integrations.connectors import connector_save
from integrations.models import Connector, ConnectorDelivery
from tests.factories import ManagerFactory, TriggerRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def test_a_manager_creates_a_shopify_connector_and_sees_how_to_set_it_up(signed_in):
    page = signed_in.post(
        "/settings/connectors/new/",
        {
            "name": "Shop",
            "kind": "shopify",
            "secret": "shpss_abc",
            "event_type": "",
            "field_map": "",
            "is_active": "on",
        },
    )
    connector = Connector.objects.get()
    assert page.status_code == 201
    assert (connector.name, connector.kind, connector.secret, connector.is_active) == (
        "Shop",
        "shopify",
        "shpss_abc",
        True,
    )
    html = page.content.decode()
    assert f'id="connector-url" readonly value="http://testserver/hooks/{connector.public_id}/"' in html
    assert "Event: Order fulfillment (topic orders/fulfilled)." in html
    # The manager typed the secret: it is not shown back.
    assert "shpss_abc" not in html and "new-secret" not in html


def test_a_generic_connector_shows_the_secret_it_made_once(signed_in):
    page = signed_in.post(
        "/settings/connectors/new/",
        {"name": "Backend", "kind": "generic", "event_type": "signup", "field_map": '{"email": "/user/email"}'},
    )
    connector = Connector.objects.get()
    assert page.status_code == 201
    assert page["Cache-Control"] == "no-store"
    assert f'id="new-secret" readonly value="{connector.secret}"' in page.content.decode()
    assert connector.secret not in signed_in.get(f"/settings/connectors/{connector.pk}/").content.decode()


def test_bad_input_shows_each_fields_message(signed_in):
    page = signed_in.post(
        "/settings/connectors/new/", {"name": "Backend", "kind": "generic", "event_type": "", "field_map": "{nope"}
    )
    assert page.status_code == 400
    assert "This is not JSON" in page.content.decode()
    page = signed_in.post(
        "/settings/connectors/new/",
        {"name": "Backend", "kind": "generic", "event_type": "", "field_map": '{"email": "email"}'},
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert "A generic connector needs the event type its deliveries become." in html
    assert "field_map.email: “email” is not a JSON pointer" in html
    assert not Connector.objects.exists()


def test_the_zendesk_page_gives_the_trigger_body_and_the_edit_keeps_secrets(signed_in):
    connector = connector_save(name="Support", kind="zendesk", secret="zd-secret")
    html = signed_in.get(f"/settings/connectors/{connector.pk}/").content.decode()
    assert "&quot;ticket_id&quot;: &quot;{{ticket.id}}&quot;" in html
    assert "&quot;requester_email&quot;: &quot;{{ticket.requester.email}}&quot;" in html
    form = signed_in.get(f"/settings/connectors/{connector.pk}/edit/").content.decode()
    assert 'name="kind"' not in form and "zd-secret" not in form
    answer = signed_in.post(
        f"/settings/connectors/{connector.pk}/edit/",
        {"name": "Helpdesk", "secret": "", "event_type": "ticket_done", "field_map": "", "is_active": "on"},
    )
    assert answer.status_code == 302
    connector.refresh_from_db()
    assert (connector.name, connector.secret, connector.event_type) == ("Helpdesk", "zd-secret", "ticket_done")
    answer = signed_in.post(
        f"/settings/connectors/{connector.pk}/edit/",
        {"name": "Helpdesk", "secret": "", "event_type": "", "field_map": "", "zendesk_writeback": "on"},
    )
    assert answer.status_code == 400
    assert "Give a Zendesk API token" in answer.content.decode()
    connector.refresh_from_db()
    assert (connector.zendesk_writeback, connector.event_type) == (False, "ticket_done")


def test_send_a_test_delivery_and_read_the_log(signed_in):
    rule = TriggerRuleFactory(event_type="support_ticket_solved")
    connector = connector_save(name="Support", kind="zendesk", secret="zd-secret")
    answer = signed_in.post(f"/settings/connectors/{connector.pk}/test/")
    assert answer.status_code == 302
    assert answer["Location"] == f"/settings/connectors/{connector.pk}/?tested=1#log"
    delivery = ConnectorDelivery.objects.get()
    assert delivery.detail == (
        "Test: signature verified; the sample becomes support_ticket_solved for test.customer@example.com; "
        f"it would match trigger rule(s) #{rule.pk}. Nothing was sent."
    )
    html = signed_in.get(answer["Location"]).content.decode()
    assert "Test delivery done" in html
    assert re.search(r"<td>Test delivery</td>\s*<td>Test: signature verified;", html)


def test_delete_a_connector(signed_in):
    connector = connector_save(name="Shop", kind="shopify", secret="s")
    assert signed_in.get(f"/settings/connectors/{connector.pk}/delete/").status_code == 405
    answer = signed_in.post(f"/settings/connectors/{connector.pk}/delete/")
    assert (answer.status_code, answer["Location"]) == (302, "/settings/connectors/")
    assert not Connector.objects.exists()


def test_the_list_shows_each_connectors_state(signed_in):
    connector_save(name="Shop", kind="shopify")
    connector_save(name="Billing", kind="stripe", secret="whsec_1", is_active=False)
    html = signed_in.get("/settings/connectors/").content.decode()
    assert re.search(r"Billing</a></td>.*?<td>paused</td>", html, re.S)
    assert re.search(r"Shop</a></td>.*?<td>waiting for its secret</td>", html, re.S)


def test_an_agent_cannot_reach_a_connector(client, agent):
    connector = connector_save(name="Shop", kind="shopify", secret="s")
    client.force_login(agent)
    assert client.get(f"/settings/connectors/{connector.pk}/").status_code == 403
    assert client.post(f"/settings/connectors/{connector.pk}/test/").status_code == 403


def test_a_french_speaking_manager_reads_a_connector_and_its_log_in_french(client):
    client.force_login(ManagerFactory(email="chef@closeloop.test", language="fr"))
    connector = connector_save(name="Support", kind="zendesk", secret="zd-secret")

    page = client.get(f"/settings/connectors/{connector.pk}/").content.decode()

    assert '<h2 id="setup-title">Configuration</h2>' in page
    assert '<h2 id="refused-title">Envois refusés</h2>' in page
    assert "<p>Aucun : aucun envoi n'a échoué à la vérification de sa signature.</p>" in page
    assert '<td colspan="4">Aucun envoi pour l\'instant.</td>' in page


def test_a_french_speaking_manager_reads_the_set_up_steps_and_the_refusals_in_french(client):
    client.force_login(ManagerFactory(email="chef@closeloop.test", language="fr"))
    connector = connector_save(name="Boutique", kind="shopify", secret="shpss_abc")

    page = client.get(f"/settings/connectors/{connector.pk}/").content.decode()
    refused = client.post(
        "/settings/connectors/new/",
        {"name": "Maison", "kind": "generic", "secret": "", "event_type": "", "field_map": '{"name": "/n"}'},
    )

    steps = re.findall(r"<li>(.*?)</li>", page.split("<ol>")[1].split("</ol>")[0])
    assert len(steps) == 5
    assert steps[3] == (
        "Créez une règle de déclenchement pour l&#x27;événement « purchase », avec un délai égal à votre temps de "
        "livraison habituel : « fulfilled » signifie expédié, pas livré."
    )
    assert f"URL : http://testserver/hooks/{connector.public_id}/." in steps[1]
    form = refused.content.decode()
    assert refused.status_code == 400
    assert '<label for="id_event_type">Type d&#x27;événement</label>' in form
    assert "Un connecteur générique a besoin du type d&#x27;événement que deviennent ses envois." in form
    assert "Pointez au moins l&#x27;un de email, phone ou external_id." in form
    assert not Connector.objects.filter(name="Maison").exists()


def test_an_english_speaking_manager_still_reads_the_set_up_steps_in_english(client):
    client.force_login(ManagerFactory(email="lead@closeloop.test", language="en"))
    connector = connector_save(name="Shop", kind="shopify", secret="shpss_abc")

    page = client.get(f"/settings/connectors/{connector.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert (
        "<li>Create a trigger rule for the event “purchase”, with a delay of your usual delivery time: “fulfilled” "
        "means shipped, not delivered.</li>"
    ) in page
