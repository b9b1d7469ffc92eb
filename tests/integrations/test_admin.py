"""The admin's connector logs: managers read deliveries and Zendesk notes, nobody writes them by hand."""

import pytest

from integrations.connectors import connector_save, connector_test_delivery

pytestmark = pytest.mark.django_db


def test_connector_deliveries_are_listed_read_only_for_managers(client, manager):
    connector = connector_save(name="Billing", kind="stripe", secret="whsec_1")
    delivery = connector_test_delivery(connector=connector)
    client.force_login(manager)
    listing = client.get("/admin/integrations/connectordelivery/")
    assert listing.status_code == 200
    assert b"checkout.session.completed" in listing.content
    detail = client.get(f"/admin/integrations/connectordelivery/{delivery.pk}/change/")
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert client.get("/admin/integrations/connectordelivery/add/").status_code == 403
    assert client.get("/admin/integrations/zendesknote/").status_code == 200
