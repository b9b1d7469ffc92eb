"""The secret key: refused in production when weak or a known default; generated once per local install.

The key signs sessions and CSRF tokens and derives every survey link's token (surveys/tokens.py): a
constant key in the repository would let anyone forge answer links for any install that kept it.
"""

import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 10
KNOWN_DEFAULTS = frozenset(
    {
        "closeloop-local-only-not-a-secret",
        "change-me",
        "changeme",
        "secret",
        "django-insecure",
    }
)


def secret_key_problem(key: str) -> str | None:
    """Why `key` is not fit to sign production's links and sessions, or None (Django's own --deploy rule, W009)."""
    if key in KNOWN_DEFAULTS or key.startswith("django-insecure-") or key.startswith("closeloop-local-only"):
        return "DJANGO_SECRET_KEY is a published default"
    if len(key) < MIN_LENGTH:
        return f"DJANGO_SECRET_KEY must be at least {MIN_LENGTH} characters"
    if len(set(key)) < MIN_UNIQUE_CHARACTERS:
        return f"DJANGO_SECRET_KEY must hold at least {MIN_UNIQUE_CHARACTERS} different characters"
    return None


def production_secret_key(key: str) -> str:
    problem = secret_key_problem(key)
    if problem:
        raise ImproperlyConfigured(
            f"{problem}. Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))'"
        )
    return key


def local_secret_key(path: Path) -> str:
    """This install's own key, generated on first start and kept (mode 600) under var/."""
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if key:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    # O_EXCL: two processes starting at once keep the first one's key, not one each.
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(key + "\n")
        path.chmod(0o600)
    except FileExistsError:
        return path.read_text().strip()
    return key
