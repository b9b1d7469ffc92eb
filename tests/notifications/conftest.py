import pytest
from django.test import override_settings

from tests.fakes.providers import FakeProviders

PROVIDER_SETTINGS = {
    "SENDGRID_API_KEY": "SG.test-key-not-secret",
    "SENDGRID_WEBHOOK_PUBLIC_KEY": "",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "twilio-test-token",
    "TWILIO_MESSAGING_SERVICE_SID": "",
    "TWILIO_FROM_NUMBER": "+15005550006",
    "DEFAULT_FROM_EMAIL": "Acme Surveys <surveys@acme.test>",
    "NOTIFICATIONS_TRANSPORTS": {
        "email": "notifications.transports.sendgrid.SendGridTransport",
        "sms": "notifications.transports.twilio.TwilioTransport",
    },
}


@pytest.fixture
def fake_providers():
    """The real SDKs, talking to a local fake SendGrid and fake Twilio that record each request."""
    fake = FakeProviders().start()
    with override_settings(SENDGRID_API_BASE_URL=fake.url, TWILIO_API_BASE_URL=fake.url, **PROVIDER_SETTINGS):
        yield fake
    fake.stop()
