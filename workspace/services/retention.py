"""The retention purge: every app's expired data removed in small batches, each its own short transaction.

The kinds come from each app's `retention.py` (config/retention.py); this module only walks them. A batch
locks at most RETENTION_PURGE_BATCH_SIZE rows it picked with SKIP LOCKED, so the purge never waits for a row
a send, an answer or a webhook is writing, and they wait for it at most one batch. Kinds take turns batch by
batch, so one large backlog cannot starve the others, and a run stops at its time budget: the next run
carries on where the rows are still expired.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string, module_has_submodule

from config.retention import Purgeable, retention_days
from console.services import audit_purge_record

logger = logging.getLogger(__name__)

# How long a batch may wait for a row lock (PostgreSQL) before it gives up and leaves its rows to the next run.
LOCK_TIMEOUT_MS = 500


def purgeables() -> list[Purgeable]:
    """Every app's purgeable kinds, in the order of INSTALLED_APPS."""
    found = []
    for app in apps.get_app_configs():
        if module_has_submodule(app.module, "retention"):
            found.extend(import_string(f"{app.name}.retention.PURGEABLES"))
    return found


@dataclass
class PurgeReport:
    kind: str
    label: str
    days: int | None  # None: kept forever, nothing looked at
    cutoff: datetime | None
    removed: int = 0  # rows removed or blanked; with a dry run, how many would be
    batches: int = 0
    seconds: float = 0.0
    finished: bool = True  # False: the time budget ran out (or a lock was not granted) with rows still expired
    longest_batch: float = 0.0  # seconds of the longest batch transaction: the longest any row stayed locked


class _Walk:
    """One kind's progress through a run: the (clock, id) of the last row it took, so a batch never reads again
    the rows the batches before it took (or skipped as locked)."""

    def __init__(self, purgeable: Purgeable, report: PurgeReport) -> None:
        self.purgeable, self.report = purgeable, report
        self.last: tuple[datetime, int] | None = None
        self.stopped = False  # done for this run: nothing expired is left, or a batch gave up

    def expired(self):
        clock = self.purgeable.clock
        rows = self.purgeable.rows().filter(**{f"{clock}__lt": self.report.cutoff})
        if self.last is not None:
            at, pk = self.last
            # `clock >= at` stays a range on the clock's index; the ties already taken are filtered out.
            rows = rows.filter(**{f"{clock}__gte": at}).exclude(**{clock: at, "pk__lte": pk})
        return rows.order_by(clock, "pk")

    def batch(self, size: int, now: datetime) -> None:
        started = time.monotonic()
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    # A purge (a DELETE's cascade) that would wait for a lock gives up the batch instead: while it
                    # waited, whoever wants the rows it already holds would wait behind it.
                    with connection.cursor() as cursor:
                        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
                # SKIP LOCKED: a row being written right now is left for the next run instead of waited for.
                picked = list(
                    self.expired()
                    .select_for_update(skip_locked=True, no_key=self.purgeable.blanks, of=("self",))
                    .values_list(self.purgeable.clock, "pk")[:size]
                )
                removed = self.purgeable.purge([pk for _, pk in picked], now) if picked else 0
        except OperationalError as exc:
            # Lock timeout, deadlock or a lost connection: the batch rolled back, its rows wait for the next run.
            logger.warning("retention: a batch of %s gave up (%s); the next run carries on", self.report.label, exc)
            self.stopped = True
            return
        finally:
            elapsed = time.monotonic() - started
            self.report.batches += 1
            self.report.seconds += elapsed
            self.report.longest_batch = max(self.report.longest_batch, elapsed)
        self.report.removed += removed
        if picked:
            self.last = picked[-1]
        if len(picked) < size:
            self.report.finished = True
            self.stopped = True


def purge_expired(
    *,
    dry_run: bool = False,
    kinds: list[str] | None = None,
    now: datetime | None = None,
    batch_size: int | None = None,
    max_seconds: float | None = None,
    actor_label: str = "retention job",
) -> list[PurgeReport]:
    """Purge every kind's rows older than its retention; one report per kind, one log line per kind, and one
    audit entry per kind that lost rows (its label, age and count: never what the rows held).

    `max_seconds` bounds the run (the beat job passes RETENTION_PURGE_MAX_SECONDS; None: until nothing expired
    is left); a dry run counts what would go and changes nothing.
    """
    now = now or timezone.now()
    size = batch_size or settings.RETENTION_PURGE_BATCH_SIZE
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    reports, walks = [], []
    for purgeable in purgeables():
        if kinds is not None and purgeable.kind not in kinds:
            continue
        days = retention_days(getattr(settings, purgeable.setting))
        cutoff = None if days is None else now - timedelta(days=days)
        report = PurgeReport(kind=purgeable.kind, label=purgeable.label, days=days, cutoff=cutoff)
        reports.append(report)
        if days is None:
            continue
        if dry_run:
            report.removed = purgeable.rows().filter(**{f"{purgeable.clock}__lt": cutoff}).count()
            continue
        report.finished = False
        walks.append(_Walk(purgeable, report))
    while walks and (deadline is None or time.monotonic() < deadline):
        for walk in walks:
            walk.batch(size, now)
        walks = [walk for walk in walks if not walk.stopped]
    for report in reports:
        _log(report, dry_run)
        if report.removed and not dry_run:
            audit_purge_record(
                actor_label=actor_label, kind=report.kind, label=report.label, days=report.days, removed=report.removed
            )
    return reports


def _log(report: PurgeReport, dry_run: bool) -> None:
    if report.days is None:
        logger.info("retention: %s kept forever (%s)", report.label, report.kind)
        return
    verb = "would purge" if dry_run else "purged"
    logger.info(
        "retention: %s %d %s older than %d days (before %s) in %d batches, %.1f s (longest batch %.3f s)%s",
        verb,
        report.removed,
        report.label,
        report.days,
        report.cutoff.isoformat(timespec="seconds"),
        report.batches,
        report.seconds,
        report.longest_batch,
        "" if report.finished else "; more left for the next run",
    )
