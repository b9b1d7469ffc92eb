"""Settings of the chaos suite's live workers: the real SDK transports pointed at the suite's fake provider
(`FAKE_PROVIDER_URL`), short leases and backoffs so that recovery happens within the run, and every beat job
that recovers lost work running each second.
"""

import os

from config.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
SENDGRID_API_KEY = "SG.chaos-key"
SENDGRID_API_BASE_URL = os.environ["FAKE_PROVIDER_URL"]
TWILIO_ACCOUNT_SID = "AC" + "0" * 32
TWILIO_AUTH_TOKEN = "chaos-token"
TWILIO_FROM_NUMBER = "+15005550006"
TWILIO_API_BASE_URL = os.environ["FAKE_PROVIDER_URL"]
NOTIFICATIONS_TRANSPORTS = {
    "email": "notifications.transports.sendgrid.SendGridTransport",
    "sms": "notifications.transports.twilio.TwilioTransport",
}
NOTIFICATIONS_RATE_LIMITS = {"email": 0, "sms": 0}
PROVIDER_TIMEOUT_SECONDS = 1.0
PROVIDER_DEADLINE_SECONDS = 2.0
SEND_LEASE_SECONDS = 4
SEND_RETRY_CAP_SECONDS = 2.0
SEND_RETRY_AFTER_MAX_SECONDS = 3.0
SEND_MAX_RETRIES = 8
IDEMPOTENCY_LEASE_SECONDS = 5
ANNOUNCE_GRACE_SECONDS = 2
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
# A webhook's task lost with Redis is handed over again after this lease, kept above an attempt's whole deadline.
WEBHOOK_TIMEOUT_SECONDS = 1.0
OUTBOUND_DEADLINE_SECONDS = 2.0
WEBHOOK_LEASE_SECONDS = 4
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-invitations": {"task": "surveys.tasks.dispatch_due_invitations", "schedule": 1.0},
    "sweep-messages": {"task": "notifications.tasks.sweep_messages", "schedule": 1.0},
    "announce-pending-responses": {"task": "surveys.tasks.announce_pending_responses", "schedule": 1.0},
    "deliver-due-webhooks": {"task": "integrations.tasks.deliver_due_webhooks", "schedule": 1.0},
}
