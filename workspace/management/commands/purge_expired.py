import getpass

from django.core.management.base import BaseCommand, CommandError

from workspace.services.retention import purge_expired, purgeables


class Command(BaseCommand):
    help = (
        "Remove or blank every kind of data older than its RETENTION_*_DAYS setting, in small batches, as the"
        " beat job purge-expired-data does (docs/retention.md); one line per kind."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; change nothing.")
        parser.add_argument(
            "--kind", action="append", dest="kinds", metavar="KIND", help="Only this kind (repeatable)."
        )
        parser.add_argument(
            "--max-seconds", type=float, default=None, help="Stop after this long (default: when nothing is left)."
        )

    def handle(self, *args, dry_run: bool, kinds: list[str] | None, max_seconds: float | None, **options):
        known = [purgeable.kind for purgeable in purgeables()]
        unknown = sorted(set(kinds or []) - set(known))
        if unknown:
            raise CommandError(f"Unknown kind(s): {', '.join(unknown)}. Choose from {', '.join(known)}.")
        if max_seconds is not None and max_seconds <= 0:
            raise CommandError("--max-seconds must be more than 0.")
        reports = purge_expired(
            dry_run=dry_run, kinds=kinds, max_seconds=max_seconds, actor_label=f"manage.py purge_expired ({_who()})"
        )
        verb = "would purge" if dry_run else "purged"
        for report in reports:
            if report.days is None:
                self.stdout.write(f"{report.kind}: kept forever")
                continue
            left = "" if report.finished else " (time budget spent: more left)"
            self.stdout.write(
                f"{report.kind}: {verb} {report.removed} {report.label} older than {report.days} days{left}"
            )


def _who() -> str:
    """The system account that ran the command, for the audit trail."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container's uid without a name
        return "unknown user"
