"""The embedded default: SQLite under var/, console email and SMS, tasks in-process."""

from config.settings.base import *  # noqa: F403
from config.settings.base import BASE_DIR, env
from config.settings.secrets import local_secret_key

DEBUG = env.bool("DJANGO_DEBUG", default=True)
(BASE_DIR / "var").mkdir(exist_ok=True)
# This install's own secret (var/secret_key, made on first start) unless DJANGO_SECRET_KEY is set.
SECRET_KEY = SECRET_KEY or local_secret_key(BASE_DIR / "var" / "secret_key")  # noqa: F405

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # The in-process dispatcher writes beside request threads: wait for locks instead of failing.
    DATABASES["default"]["OPTIONS"] = {  # noqa: F405
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
    }
# WhiteNoise serves static files from the apps' folders directly: no collectstatic for `make run`.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT = None  # nothing to collect: the finders serve
