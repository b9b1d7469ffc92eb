"""The retention purge: every app's expired data removed in small batches, each its own short transaction.

The kinds come from each app's `retention.py` (config/retention.py); this module only walks them. A batch
locks at most RETENTION_PURGE_BATCH_SIZE rows it picked with SKIP LOCKED, so the purge never waits for a row
a send, an answer or a webhook is writing, and they wait for it at most one batch. Kinds take turns batch by
batch, so one large backlog cannot starve the others, and a run stops at its time budget: the next run
carries on where the rows are still expired.

The purge also leaves the database's write-ahead log to the product: every batch's writes are flushed before
the product's next commits can be, so a batch is kept near RETENTION_PURGE_BATCH_SECONDS (a kind's next batch
shrinks after a slow one and grows back after quick ones, up to the batch size), and after each batch the purge
rests so that it works only RETENTION_PURGE_DUTY of the time (docs/retention.md, bench/retention.py).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic, sleep

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
    batch_size: int = 0  # the most rows a batch may take (RETENTION_PURGE_BATCH_SIZE)
    smallest_batch: int = 0  # the fewest it was allowed after slow batches (RETENTION_PURGE_BATCH_SECONDS)
    rested: float = 0.0  # seconds the purge rested after this kind's batches (RETENTION_PURGE_DUTY)


class _Walk:
    """One kind's progress through a run: the (clock, id) of the last row it took, so a batch never reads again
    the rows the batches before it took (or skipped as locked)."""

    def __init__(self, purgeable: Purgeable, report: PurgeReport, largest: int) -> None:
        self.purgeable, self.report = purgeable, report
        self.size = report.batch_size = report.smallest_batch = largest  # this kind's next batch's size
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

    def batch(self, now: datetime, target_seconds: float) -> float:
        """One batch of at most `self.size` rows; its seconds. The next batch's size follows from them."""
        size = self.size
        self.report.smallest_batch = min(size, self.report.smallest_batch)
        started = monotonic()
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        # A purge (a DELETE's cascade) that would wait for a lock gives up the batch instead: while
                        # it waited, whoever wants the rows it already holds would wait behind it.
                        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
                        # The batch's commit does not wait for its WAL to reach the disk (the WAL writer flushes
                        # it within a fraction of a second, or the product's next commit does): a batch lost to a
                        # crash in between is purged again by the next run, and the purge asks for no disk flush
                        # of its own. Its time is then its work, which is what its size follows.
                        cursor.execute("SET LOCAL synchronous_commit = off")
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
            picked = None
        finally:
            elapsed = monotonic() - started
            self.report.batches += 1
            self.report.seconds += elapsed
            self.report.longest_batch = max(self.report.longest_batch, elapsed)
        if picked is None:
            return elapsed
        self.report.removed += removed
        if picked:
            self.last = picked[-1]
        if len(picked) < size:
            self.report.finished = True
            self.stopped = True
        self.size = next_batch_size(size, elapsed, target_seconds=target_seconds, largest=self.report.batch_size)
        return elapsed


def next_batch_size(size: int, elapsed: float, *, target_seconds: float, largest: int) -> int:
    """The size of a kind's next batch after one of `size` rows took `elapsed` seconds: in proportion to the target
    when it took longer (the rows cost what they cost, whatever made them slow: the WAL, the disk, a checkpoint),
    half again as large when it took less than half the target (so a passing slowness is not kept for the whole
    run), never more than the batch size nor less than one row."""
    if elapsed > target_seconds:
        return max(1, int(size * target_seconds / elapsed))
    if elapsed < target_seconds / 2:
        return min(largest, max(size + 1, int(size * 1.5)))
    return size


def rest_after(elapsed: float, duty: float) -> float:
    """The rest after a batch of `elapsed` seconds that makes the purge work `duty` of the time (1: no rest)."""
    return elapsed * (1 - duty) / duty


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

    `max_seconds` bounds the run, rests included (the beat job passes RETENTION_PURGE_MAX_SECONDS; None: until
    nothing expired is left); a dry run counts what would go and changes nothing. `batch_size` is the largest
    batch (RETENTION_PURGE_BATCH_SIZE by default).
    """
    now = now or timezone.now()
    largest = batch_size or settings.RETENTION_PURGE_BATCH_SIZE
    target_seconds, duty = settings.RETENTION_PURGE_BATCH_SECONDS, settings.RETENTION_PURGE_DUTY
    deadline = None if max_seconds is None else monotonic() + max_seconds
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
        walks.append(_Walk(purgeable, report, largest))
    # Kinds take turns batch by batch; the rest a batch asks for is taken before the next one (none after the last).
    turn, rest, rested_for = 0, 0.0, None
    while walks:
        if deadline is not None:
            rest = min(rest, deadline - monotonic())
        if rest > 0:
            sleep(rest)
            rested_for.rested += rest
        if deadline is not None and monotonic() >= deadline:
            break
        walk = walks[turn % len(walks)]
        rest, rested_for = rest_after(walk.batch(now, target_seconds), duty), walk.report
        if walk.stopped:
            walks.remove(walk)  # the next kind takes this place in the turn
        else:
            turn += 1
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
        "retention: %s %d %s older than %d days (before %s) in %d batches, %.1f s and %.1f s of rests"
        " (longest batch %.3f s%s)%s",
        verb,
        report.removed,
        report.label,
        report.days,
        report.cutoff.isoformat(timespec="seconds"),
        report.batches,
        report.seconds,
        report.rested,
        report.longest_batch,
        f"; slow batches brought it down to {report.smallest_batch} rows"
        if report.smallest_batch < report.batch_size
        else "",
        "" if report.finished else "; more left for the next run",
    )
