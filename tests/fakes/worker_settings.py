"""Settings of the live workers in `tests/integration/test_dispatch_workers.py`: the real SDK transports
pointed at the fake provider server of the test process (`FAKE_PROVIDER_URL`), their own queue, and a
short send lease so that the sweeper recovers a killed worker's sends within the test.
"""

import os

from config.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
# Separate from other live workers of the session, which use the locmem transport.
CELERY_TASK_DEFAULT_QUEUE = "closeloop-dispatch-itest"
SENDGRID_API_KEY = "SG.itest-key"
SENDGRID_API_BASE_URL = os.environ["FAKE_PROVIDER_URL"]
TWILIO_ACCOUNT_SID = "AC" + "0" * 32
TWILIO_AUTH_TOKEN = "itest-token"
TWILIO_FROM_NUMBER = "+15005550006"
TWILIO_API_BASE_URL = os.environ["FAKE_PROVIDER_URL"]
NOTIFICATIONS_TRANSPORTS = {
    "email": "notifications.transports.sendgrid.SendGridTransport",
    "sms": "notifications.transports.twilio.TwilioTransport",
}
NOTIFICATIONS_RATE_LIMITS = {"email": 0, "sms": 0}
SEND_LEASE_SECONDS = 15
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-invitations": {"task": "surveys.tasks.dispatch_due_invitations", "schedule": 1.0},
    "sweep-messages": {"task": "notifications.tasks.sweep_messages", "schedule": 3.0},
}
