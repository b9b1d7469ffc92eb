import pytest

from notifications.services import suppression_add

pytestmark = pytest.mark.django_db


def test_suppression_admin_lists_and_filters(admin_client):
    suppression_add(channel="email", recipient="ann@example.com", reason="bounce", source="sendgrid")
    suppression_add(channel="sms", recipient="+33612345678", reason="stop", source="twilio")
    page = admin_client.get("/admin/notifications/suppression/?reason=stop")
    assert page.status_code == 200
    assert b"+33612345678" in page.content
    assert b"ann@example.com" not in page.content


def test_suppression_admin_is_closed_to_anonymous(client):
    assert client.get("/admin/notifications/suppression/").status_code == 302
