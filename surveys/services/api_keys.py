"""API keys: create one (its raw value shown once, only its hash stored), note its use, revoke keys.

Must not read or write anything but keys; the copies kept by each process are `surveys.selectors`'.
"""

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from surveys.models import ApiKey, Survey
from surveys.selectors import intake_copies_forget
from surveys.tokens import token_hash

API_KEY_PREFIX = "cl_"


def api_key_create(*, name: str, scopes: list[str] | None = None, survey: Survey | None = None) -> tuple[ApiKey, str]:
    """Create a key and return it with its raw value, which is never stored."""
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        name=name,
        prefix=raw[:10],
        key_hash=token_hash(raw),
        scopes=scopes if scopes is not None else list(ApiKey.Scope.values),
        survey=survey,
    )
    return api_key, raw


def api_key_mark_used(*, api_key: ApiKey) -> None:
    """Record use at most once a minute (per web process), so a busy key does not write on every request.

    `api_key` is the process's kept copy (`api_key_get_active`): stamped here, its next requests see
    the new time without reading it again."""
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < timedelta(minutes=1):
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


def api_keys_revoke(*, ids: list[int]) -> int:
    """Revoke keys at once; a revoked key is refused from its next request."""
    revoked = ApiKey.objects.filter(pk__in=ids, revoked_at__isnull=True).update(revoked_at=timezone.now())
    intake_copies_forget()
    transaction.on_commit(intake_copies_forget)
    return revoked
