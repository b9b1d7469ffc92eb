"""workspace/services/retention.py: every app's kinds walked in bounded batches, the dry run, the time budget,
the audit trail, and rollups that still equal a recomputation after everything expired was purged."""

import dataclasses
import logging
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from console.models import AuditEntry
from feedback.models import FollowUp, FollowUpEntry
from insights.models import FunnelRollup, ThemeRollup
from insights.rollups import (
    FUNNEL_STAGES,
    _funnel_rows,
    full_loop_rollup_rows,
    full_score_rollup_rows,
    rollup_count_follow_up,
    rollup_count_response,
    rollup_refresh_funnel,
    stored_loop_rollup_rows,
    stored_score_rollup_rows,
)
from insights.theme_rollups import full_theme_rollup_rows, rollup_count_themes
from notifications.models import InboundSms, Message, ProviderEvent
from surveys.models import Event, Invitation, Response
from tests.factories import EventFactory, FollowUpFactory, InvitationFactory, MessageFactory, ResponseFactory
from workspace.services import retention
from workspace.services.retention import purge_expired, purgeables

pytestmark = pytest.mark.django_db

NOW = timezone.now()
LONG_AGO = NOW - timedelta(days=1000)

KINDS = [
    "provider_events",
    "message_bodies",
    "inbound_sms",
    "inbound_emails",
    "events",
    "comments",
    "free_text_answers",
    "web_visitors",
    "closed_cases",
    "theme_quotes",
    "webhook_deliveries",
    "connector_payloads",
    "delighted_uploads",
]


def test_every_app_s_kinds_are_found_in_the_order_of_the_apps():
    assert [purgeable.kind for purgeable in purgeables()] == KINDS


def _provider_events(n: int) -> None:
    for i in range(n):
        ProviderEvent.objects.create(provider="twilio", event_id=f"SM{i}", kind="delivered")
    ProviderEvent.objects.update(received_at=LONG_AGO)


def _spy_on_batches(monkeypatch, kind: str, during=None) -> list[int]:
    """The size of every batch handed to `kind`'s purge; `during(size)` is called inside each batch."""
    sizes = []
    found = purgeables()
    index = [purgeable.kind for purgeable in found].index(kind)

    def purge(ids, now, _purge=found[index].purge):
        sizes.append(len(ids))
        if during is not None:
            during(len(ids))
        return _purge(ids, now)

    found[index] = dataclasses.replace(found[index], purge=purge)
    monkeypatch.setattr(retention, "purgeables", lambda: found)
    return sizes


def test_batches_are_bounded_by_the_batch_size(monkeypatch):
    _provider_events(5)
    sizes = _spy_on_batches(monkeypatch, "provider_events")

    [report] = purge_expired(kinds=["provider_events"], now=NOW, batch_size=2)

    assert sizes == [2, 2, 1]
    assert (report.removed, report.batches, report.finished) == (5, 3, True)
    assert ProviderEvent.objects.count() == 0


def test_the_default_batch_size_is_the_setting(monkeypatch, settings):
    settings.RETENTION_PURGE_BATCH_SIZE = 3
    _provider_events(4)
    sizes = _spy_on_batches(monkeypatch, "provider_events")

    purge_expired(kinds=["provider_events"], now=NOW)

    assert sizes == [3, 1]


class _Clock:
    """The purge's clock and its rests, in place of time's: a batch takes as long as the test says."""

    def __init__(self, monkeypatch) -> None:
        self.now = 0.0
        self.rests: list[float] = []
        monkeypatch.setattr(retention, "monotonic", lambda: self.now)
        monkeypatch.setattr(retention, "sleep", self.sleep)

    def sleep(self, seconds: float) -> None:
        self.rests.append(seconds)
        self.now += seconds


def test_the_purge_rests_after_each_batch_but_the_last_so_that_it_works_its_duty_of_the_time(monkeypatch, settings):
    settings.RETENTION_PURGE_DUTY = 0.25
    settings.RETENTION_PURGE_BATCH_SECONDS = 1.0
    clock = _Clock(monkeypatch)
    _provider_events(5)
    _spy_on_batches(monkeypatch, "provider_events", during=lambda size: setattr(clock, "now", clock.now + 0.2))

    [report] = purge_expired(kinds=["provider_events"], now=NOW, batch_size=2)

    # A batch of 0.2 s, then 0.6 s of rest: a quarter of the time working.
    assert clock.rests == pytest.approx([0.6, 0.6])
    assert report.batches == 3
    assert (report.seconds, report.rested) == pytest.approx((0.6, 1.2))
    assert ProviderEvent.objects.count() == 0


def test_a_duty_of_one_never_rests(monkeypatch, settings):
    settings.RETENTION_PURGE_DUTY = 1.0
    clock = _Clock(monkeypatch)
    _provider_events(3)
    _spy_on_batches(monkeypatch, "provider_events", during=lambda size: setattr(clock, "now", clock.now + 0.2))

    [report] = purge_expired(kinds=["provider_events"], now=NOW, batch_size=1)

    assert (clock.rests, report.rested, report.removed) == ([], 0.0, 3)


def test_rests_count_in_the_time_budget(monkeypatch, settings):
    settings.RETENTION_PURGE_DUTY = 0.5
    settings.RETENTION_PURGE_BATCH_SECONDS = 10.0
    clock = _Clock(monkeypatch)
    _provider_events(5)
    _spy_on_batches(monkeypatch, "provider_events", during=lambda size: setattr(clock, "now", clock.now + 1.0))

    [report] = purge_expired(kinds=["provider_events"], now=NOW, batch_size=1, max_seconds=2.5)

    # A batch (1 s), a rest (1 s), a batch (to 3 s): the budget is spent, and no rest is taken after it.
    assert clock.rests == [1.0]
    assert (report.removed, report.batches, report.rested, report.finished) == (2, 2, 1.0, False)


def test_a_slow_batch_shrinks_the_kind_s_next_one_and_quick_ones_grow_it_back(monkeypatch, settings, caplog):
    settings.RETENTION_PURGE_DUTY = 1.0
    settings.RETENTION_PURGE_BATCH_SECONDS = 0.5
    clock = _Clock(monkeypatch)
    _provider_events(30)
    took = iter([1.0, 0.1, 0.1, 0.1, 0.1])
    sizes = _spy_on_batches(
        monkeypatch, "provider_events", during=lambda size: setattr(clock, "now", clock.now + next(took))
    )

    with caplog.at_level(logging.INFO, logger="workspace.services.retention"):
        [report] = purge_expired(kinds=["provider_events"], now=NOW, batch_size=8)

    # 8 rows in twice the target: 4 next; then half again each time, never above the batch size.
    assert sizes == [8, 4, 6, 8, 4]
    assert (report.removed, report.batch_size, report.smallest_batch) == (30, 8, 4)
    assert "in 5 batches, 1.4 s and 0.0 s of rests (longest batch 1.000 s; slow batches brought it down to 4 rows)" in (
        caplog.text
    )


@pytest.mark.parametrize(
    ("size", "elapsed", "expected"),
    [
        (500, 1.0, 125),  # four times the target: a quarter of the rows
        (500, 0.3, 416),
        (3, 10.0, 1),  # never less than one row
        (100, 0.2, 100),  # between half the target and the target: kept
        (100, 0.1, 150),  # under half the target: half again
        (1, 0.0, 2),  # one row grows too
        (400, 0.01, 500),  # never above the batch size
    ],
)
def test_the_next_batch_size_follows_the_last_batch_s_time(size, elapsed, expected):
    assert retention.next_batch_size(size, elapsed, target_seconds=0.25, largest=500) == expected


def test_a_dry_run_counts_and_removes_nothing():
    _provider_events(3)
    message = MessageFactory(status=Message.Status.SENT)
    Message.objects.filter(pk=message.pk).update(created_at=LONG_AGO)

    reports = purge_expired(dry_run=True, kinds=["provider_events", "message_bodies"], now=NOW)

    assert [(report.kind, report.removed) for report in reports] == [("provider_events", 3), ("message_bodies", 1)]
    assert ProviderEvent.objects.count() == 3
    assert Message.objects.get(pk=message.pk).body_text == "How likely are you to recommend us?"
    assert not AuditEntry.objects.exists()


def test_a_spent_time_budget_leaves_the_rest_to_the_next_run(caplog):
    _provider_events(3)

    with caplog.at_level(logging.INFO, logger="workspace.services.retention"):
        [report] = purge_expired(kinds=["provider_events"], now=NOW, max_seconds=0)

    assert (report.removed, report.finished) == (0, False)
    assert "in 0 batches, 0.0 s and 0.0 s of rests (longest batch 0.000 s); more left for the next run" in caplog.text
    assert [report.removed for report in purge_expired(kinds=["provider_events"], now=NOW)] == [3]


def test_a_batch_that_gives_up_leaves_its_kind_to_the_next_run_and_the_others_go_on(monkeypatch, caplog):
    from django.db import OperationalError

    _provider_events(2)
    InboundSms.objects.create(provider_message_id="SM1", phone="+33612345678", body="Non")
    InboundSms.objects.update(received_at=LONG_AGO)
    found = purgeables()
    index = [purgeable.kind for purgeable in found].index("provider_events")

    def timed_out(ids, now):
        raise OperationalError("canceling statement due to lock timeout")

    found[index] = dataclasses.replace(found[index], purge=timed_out)
    monkeypatch.setattr(retention, "purgeables", lambda: found)

    with caplog.at_level(logging.INFO, logger="workspace.services.retention"):
        reports = purge_expired(kinds=["provider_events", "inbound_sms"], now=NOW, batch_size=1)

    assert [(report.kind, report.removed, report.batches, report.finished) for report in reports] == [
        ("provider_events", 0, 1, False),
        ("inbound_sms", 1, 2, True),
    ]
    assert "retention: a batch of provider events gave up (canceling statement due to lock timeout)" in caplog.text
    assert ProviderEvent.objects.count() == 2


def test_a_kind_kept_forever_is_not_looked_at(settings):
    settings.RETENTION_PROVIDER_EVENTS_DAYS = "forever"
    _provider_events(2)

    [report] = purge_expired(kinds=["provider_events"], now=NOW)

    assert (report.days, report.cutoff, report.removed) == (None, None, 0)
    assert ProviderEvent.objects.count() == 2


def test_each_kind_that_lost_rows_gets_one_audit_entry_and_one_log_line(caplog, settings):
    settings.RETENTION_PROVIDER_EVENTS_DAYS = "30"
    _provider_events(2)
    answer = ResponseFactory(comment="Jeanne Martin, jeanne@example.com: late", confirmed_at=LONG_AGO)

    with caplog.at_level(logging.INFO, logger="workspace.services.retention"):
        purge_expired(kinds=["provider_events", "comments", "inbound_sms"], now=NOW, actor_label="manage.py x")

    entries = list(
        AuditEntry.objects.order_by("pk").values("actor_label", "action", "object_id", "object_repr", "changes")
    )
    assert entries == [
        {
            "actor_label": "manage.py x",
            "action": "purged",
            "object_id": "provider_events",
            "object_repr": "provider events older than 30 days",
            "changes": {"rows": [None, 2]},
        },
        {
            "actor_label": "manage.py x",
            "action": "purged",
            "object_id": "comments",
            "object_repr": "comments older than 730 days",
            "changes": {"rows": [None, 1]},
        },
    ]
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 3
    assert lines[0].startswith("retention: purged 2 provider events older than 30 days (before ")
    assert lines[1].startswith("retention: purged 0 inbound SMS older than 90 days")
    assert "jeanne" not in caplog.text.lower()
    assert Response.objects.get(pk=answer.pk).comment == ""


def _rollups() -> dict:
    funnel = sorted(
        (row.day, row.survey_id, row.channel, row.event_type, *(getattr(row, stage) for stage in FUNNEL_STAGES))
        for row in FunnelRollup.objects.all()
    )
    themes = {
        (r.day, r.survey_id, r.channel, r.event_type, r.theme, r.score): r.count
        for r in ThemeRollup.objects.exclude(count=0)
    }
    return {"scores": stored_score_rollup_rows(), "themes": themes, "loop": stored_loop_rollup_rows(), "funnel": funnel}


def _recomputed() -> dict:
    funnel = sorted(
        (row.day, row.survey_id, row.channel, row.event_type, *(getattr(row, stage) for stage in FUNNEL_STAGES))
        for row in _funnel_rows(Invitation.objects.all())
    )
    return {
        "scores": full_score_rollup_rows(),
        "themes": full_theme_rollup_rows(),
        "loop": full_loop_rollup_rows(),
        "funnel": funnel,
    }


def test_rollups_equal_a_recomputation_after_everything_expired_is_purged(settings):
    settings.DASHBOARD_BREAKDOWN_PROPERTIES = ["event:store"]
    for n, (score, comment) in enumerate([(2, "Late, ask for Paul"), (9, "Great"), (4, ""), (10, "Merci")]):
        event = EventFactory(type="purchase", properties={"store": f"Lyon {n % 2}", "email": "jeanne@example.com"})
        message = MessageFactory(status=Message.Status.DELIVERED, sent_at=LONG_AGO)
        invitation = InvitationFactory(event=event, contact=event.contact, message=message)
        ProviderEvent.objects.create(provider="sendgrid", event_id=f"open-{n}", kind="open", message=message)
        ProviderEvent.objects.create(provider="sendgrid", event_id=f"delivered-{n}", kind="delivered", message=message)
        response = ResponseFactory(
            invitation=invitation, score=score, comment=comment, themes=["delivery"] if comment else [],
            analysed_at=LONG_AGO, confirmed_at=LONG_AGO,
        )  # fmt: skip
        rollup_count_response(response_id=response.pk)
        rollup_count_themes(response_id=response.pk)
        if score < 7:
            case = FollowUpFactory(response=response, resolution_note="Refunded")
            FollowUpEntry.objects.create(follow_up=case, kind="note", author=case.team.lead, body="Called Jeanne")
            FollowUp.objects.filter(pk=case.pk).update(status="resolved", resolved_at=LONG_AGO, outcome="recovered")
            rollup_count_follow_up(follow_up_id=case.pk)
    # Opened, never answered: only its open event says it was opened.
    unanswered = MessageFactory(status=Message.Status.DELIVERED, sent_at=LONG_AGO)
    InvitationFactory(event=None, message=unanswered)
    ProviderEvent.objects.create(provider="sendgrid", event_id="open-unanswered", kind="open", message=unanswered)
    EventFactory()  # an event that led to no survey
    Event.objects.update(received_at=LONG_AGO)
    Message.objects.update(created_at=LONG_AGO)
    ProviderEvent.objects.update(received_at=LONG_AGO)
    rollup_refresh_funnel()
    before = _rollups()
    assert before == _recomputed()

    reports = purge_expired(now=NOW)

    removed = {report.kind: report.removed for report in reports if report.removed}
    assert removed == {
        "provider_events": 4,
        "message_bodies": 5,
        "events": 1,
        "comments": 3,
        "closed_cases": 2,
    }
    assert _rollups() == before == _recomputed()


@pytest.mark.django_db(transaction=True)
def test_each_batch_commits_on_its_own(monkeypatch):
    """A batch that gives up rolls back itself only: the batches before it stay purged."""
    from django.db import OperationalError

    _provider_events(5)
    found = purgeables()
    index = [purgeable.kind for purgeable in found].index("provider_events")
    calls = []

    def second_times_out(ids, now, _purge=found[index].purge):
        calls.append(ids)
        removed = _purge(ids, now)
        if len(calls) == 2:
            raise OperationalError("canceling statement due to lock timeout")
        return removed

    found[index] = dataclasses.replace(found[index], purge=second_times_out)
    monkeypatch.setattr(retention, "purgeables", lambda: found)

    [report] = purge_expired(kinds=["provider_events"], now=NOW, batch_size=2)

    assert (report.removed, report.batches, report.finished) == (2, 2, False)
    assert set(ProviderEvent.objects.values_list("event_id", flat=True)) == {"SM2", "SM3", "SM4"}


postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and plans are PostgreSQL's")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_row_locked_by_the_product_is_skipped_not_waited_for():
    import threading

    from django.db import connection as main_connection
    from django.db import connections, transaction

    _provider_events(3)
    locked_id = ProviderEvent.objects.get(event_id="SM1").pk
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:  # a webhook's transaction holding the row, as long as the test wants
        with transaction.atomic():
            ProviderEvent.objects.select_for_update().get(pk=locked_id)
            holding.set()
            release.wait(30)
        connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    holding.wait(10)
    try:
        started = time.monotonic()
        [report] = purge_expired(kinds=["provider_events"], now=NOW)
        elapsed = time.monotonic() - started
    finally:
        release.set()
        thread.join()

    assert report.removed == 2
    assert list(ProviderEvent.objects.values_list("pk", flat=True)) == [locked_id]
    assert elapsed < 1.0
    assert main_connection.vendor == "postgresql"


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_batch_commits_without_waiting_for_its_wal_flush_and_gives_up_on_a_lock_wait(monkeypatch):
    _provider_events(1)
    seen = []

    def settings_in_batch(size):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('synchronous_commit'), current_setting('lock_timeout')")
            seen.append(cursor.fetchone())

    _spy_on_batches(monkeypatch, "provider_events", during=settings_in_batch)

    purge_expired(kinds=["provider_events"], now=NOW)

    assert seen == [("off", "500ms")]
    with connection.cursor() as cursor:  # for the batch's transaction only (SET LOCAL)
        cursor.execute("SELECT current_setting('synchronous_commit')")
        assert cursor.fetchone() == ("on",)


def _plan(kind: str) -> str:
    purgeable = next(purgeable for purgeable in purgeables() if purgeable.kind == kind)
    walk = retention._Walk(purgeable, retention.PurgeReport(kind=kind, label="", days=1, cutoff=NOW), largest=500)
    rows = walk.expired().select_for_update(skip_locked=True, no_key=purgeable.blanks, of=("self",))
    return rows.values_list(purgeable.clock, "pk")[:500].explain()


@postgresql_only
def test_the_batches_of_the_hot_tables_read_their_retention_indexes():
    """Over a history mostly purged already, each batch reads the partial index of what is left, not the table."""
    from django.db import connection as db

    message = MessageFactory(status=Message.Status.DELIVERED, body_text="", created_at=NOW - timedelta(days=200))
    with db.cursor() as cursor:
        # 20,000 copies of a message already purged, every column as the ORM wrote it but a new public id.
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'notifications_message'"
            " AND column_name NOT IN ('id', 'public_id')"
        )
        names = ", ".join(name for (name,) in cursor.fetchall())
        cursor.execute(
            f"INSERT INTO notifications_message (public_id, {names}) SELECT gen_random_uuid(), {names}"
            " FROM notifications_message, generate_series(1, 20000) WHERE id = %s",
            [message.pk],
        )
        cursor.execute(
            "INSERT INTO notifications_providerevent (provider, event_id, kind, received_at, message_id)"
            " SELECT 'sendgrid', 'open' || n, 'open', now() - interval '200 days', %s FROM generate_series(1, 20000) n",
            [message.pk],
        )
        cursor.execute("ANALYZE notifications_message")
        cursor.execute("ANALYZE notifications_providerevent")

    assert "message_body_retention_idx" in _plan("message_bodies")
    assert "provider_event_retention_idx" in _plan("provider_events")
