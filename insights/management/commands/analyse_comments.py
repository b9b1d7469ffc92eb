"""`manage.py analyse_comments [--since YYYY-MM-DD]`: read every comment not read since it last changed.

Resumable: what was read is stored as it goes, so a run stopped halfway starts where it left off.
"""

import sys
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from insights.analysis import backfill_queryset, comments_backfill, status


def _bar(done: int, total: int, started: float, width: int = 30) -> str:
    share = done / total if total else 1.0
    rate = done / max(time.monotonic() - started, 1e-6)
    filled = round(width * share)
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} ({share:.0%}) {rate:.0f} comments/s"


class Command(BaseCommand):
    help = "Read the language, sentiment and themes of comments not read since they last changed (resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="Only answers confirmed on or after this day (YYYY-MM-DD).")
        parser.add_argument("--batch", type=int, default=200, help="Comments read and stored per batch.")

    def handle(self, *args, since=None, batch=200, **options) -> None:
        day = None
        if since:
            try:
                day = date.fromisoformat(since)
            except ValueError as exc:
                raise CommandError(f"--since: {since!r} is not a date like 2026-10-01.") from exc
        if batch < 1 or batch > 5000:
            raise CommandError("--batch: give a number from 1 to 5000.")
        reading = status()
        if not reading["discovery"]:
            self.stderr.write(reading["message"] + " (language, sentiment and themes are still read)")
        total = backfill_queryset(day).count()
        started = time.monotonic()
        done = 0
        interactive = sys.stdout.isatty() if self.stdout._out is sys.stdout else False
        for count in comments_backfill(since=day, batch=batch):
            done += count
            if interactive:
                self.stdout.write(_bar(done, total, started), ending="")
            else:
                self.stdout.write(_bar(done, total, started).lstrip("\r"))
        if interactive:
            self.stdout.write("")
        self.stdout.write(f"Read {done} comments.")
