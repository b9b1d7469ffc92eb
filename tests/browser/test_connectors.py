"""A manager connects Shopify in a real browser at 360 px, and a signed Shopify delivery shows in the log.

Creates the connector, copies its address, sets the secret, sends a test delivery; then Shopify's documented
orders/fulfilled body, signed as Shopify signs it, is posted to the live server: the page's log shows the
event it became. axe-core finds no violation on any of the pages, and none scrolls sideways.
"""

import urllib.request

import pytest
from django.test import override_settings

from integrations.connectors import connector_save
from integrations.models import Connector, ZendeskNote
from tests.browser.console_pages import assert_accessible_at_its_width, log_in
from tests.factories import ManagerFactory, ResponseFactory, TriggerRuleFactory
from tests.integrations.signing import fixture_body, shopify_headers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def note_for(connector, error: str) -> ZendeskNote:
    response = ResponseFactory()
    return ZendeskNote.objects.create(
        connector=connector,
        response=response,
        ticket_id="35436",
        body="Survey answer",
        status=ZendeskNote.Status.FAILED,
        attempts=1,
        error=error,
        next_attempt_at=response.confirmed_at,
    )


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(viewport={"width": 360, "height": 740}, base_url=live_server.url)
    yield context.new_page()
    context.close()


def test_browser_manager_connects_shopify_and_a_signed_delivery_lands_in_the_log(page, axe_violations, live_server):
    ManagerFactory(email="lead@closeloop.test")
    TriggerRuleFactory(event_type="purchase")
    third_party = []
    page.on("request", lambda r: third_party.append(r.url) if not r.url.startswith(live_server.url) else None)
    with override_settings(SITE_URL=live_server.url):
        log_in(page, "lead@closeloop.test", "password", "/settings/connectors/")
        assert_accessible_at_its_width(page, axe_violations)
        page.get_by_role("link", name="New connector").click()
        assert_accessible_at_its_width(page, axe_violations)
        page.get_by_label("Name").fill("Our shop")
        page.get_by_label("Source").select_option("shopify")
        page.get_by_role("button", name="Create the connector").click()
        connector = Connector.objects.get()
        assert page.get_by_label("Address to paste into Shopify").input_value() == (
            f"{live_server.url}/hooks/{connector.public_id}/"
        )
        page.get_by_role("alert").filter(has_text="No secret yet").wait_for()
        assert_accessible_at_its_width(page, axe_violations)

        page.get_by_role("link", name="Change the settings of Our shop").click()
        page.get_by_label("Secret").fill("shpss_browser")
        page.get_by_role("button", name="Save").click()
        page.get_by_role("button", name="Send a test delivery").click()
        page.get_by_role("status").filter(has_text="Test delivery done").wait_for()
        assert (
            "Test: signature verified; the sample becomes purchase" in page.locator("#log tbody tr").first.inner_text()
        )

        body = fixture_body("shopify_orders_fulfilled.json")
        headers = {
            key.removeprefix("HTTP_").replace("_", "-"): value
            for key, value in shopify_headers("shpss_browser", body).items()
        }
        request = urllib.request.Request(
            f"{live_server.url}/hooks/{connector.public_id}/",
            data=body,
            headers={"Content-Type": "application/json", **headers},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
        page.reload()
        first = page.locator("#log tbody tr").first.inner_text()
        assert "orders/fulfilled" in first and "Event created" in first
        assert "Event purchase for John Smith. 1 invitation(s) scheduled." in first
        assert_accessible_at_its_width(page, axe_violations)
    assert third_party == []


def test_browser_zendesk_connector_page_with_its_trigger_body_and_failed_notes(page, axe_violations, live_server):
    ManagerFactory(email="lead@closeloop.test")
    connector = connector_save(name="Helpdesk", kind="zendesk", secret="zd-secret")
    note_for(connector, error='Zendesk answered HTTP 401: {"error": "Couldn\'t authenticate you"}')
    with override_settings(SITE_URL=live_server.url):
        log_in(page, "lead@closeloop.test", "password", f"/settings/connectors/{connector.pk}/")
        assert '"ticket_id": "{{ticket.id}}"' in page.get_by_label("JSON body of the trigger").input_value()
        page.get_by_text("0 written, 0 waiting or being retried, 1 failed.").wait_for()
        assert_accessible_at_its_width(page, axe_violations)
        page.get_by_role("link", name="Change the settings of Helpdesk").click()
        page.get_by_label("Zendesk: write each answer on its ticket as an internal note").check()
        page.get_by_role("button", name="Save").click()
        page.get_by_text("Give a Zendesk API token").wait_for()
        assert_accessible_at_its_width(page, axe_violations)
