"""workspace/management/commands/purge_expired.py."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from console.models import AuditEntry
from notifications.models import ProviderEvent
from workspace.services.retention import purgeables

pytestmark = pytest.mark.django_db


def _old_provider_events(n: int) -> None:
    for i in range(n):
        ProviderEvent.objects.create(provider="twilio", event_id=f"SM{i}", kind="delivered")
    ProviderEvent.objects.update(received_at=timezone.now() - timedelta(days=31))


def _run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("purge_expired", *args, stdout=out)
    return out.getvalue()


def test_dry_run_says_what_would_go_and_removes_nothing():
    _old_provider_events(2)

    out = _run("--dry-run", "--kind", "provider_events", "--kind", "inbound_sms")

    assert out == (
        "provider_events: would purge 2 provider events older than 30 days\n"
        "inbound_sms: would purge 0 inbound SMS older than 90 days\n"
    )
    assert ProviderEvent.objects.count() == 2


def test_a_run_purges_every_kind_and_records_who_ran_it(settings, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "ops")
    settings.RETENTION_COMMENTS_DAYS = "forever"
    _old_provider_events(3)

    out = _run()

    assert "provider_events: purged 3 provider events older than 30 days\n" in out
    assert "comments: kept forever\n" in out
    assert len(out.splitlines()) == len(purgeables())  # one line per kind, whichever apps add kinds
    assert ProviderEvent.objects.count() == 0
    entry = AuditEntry.objects.get()
    assert (entry.actor_label, entry.object_id, entry.changes) == (
        "manage.py purge_expired (ops)",
        "provider_events",
        {"rows": [None, 3]},
    )


def test_an_unknown_kind_is_refused():
    with pytest.raises(CommandError, match="Unknown kind\\(s\\): bodies. Choose from provider_events, message_bodies"):
        _run("--kind", "bodies")


def test_a_budget_of_nothing_is_refused():
    with pytest.raises(CommandError, match="--max-seconds must be more than 0."):
        _run("--max-seconds", "0")
