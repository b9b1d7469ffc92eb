"""What the retention purge removes from the Delighted app's tables (config/retention.py, docs/retention.md)."""

from datetime import datetime

from django.db.models import Q

from config.retention import Purgeable
from delighted.models import DelightedImport, DelightedImportFile


def _uploads_rows():
    # A file is kept only until its import has read it to the end: what is left is an import never finished.
    return DelightedImportFile.objects.all()


def _uploads_purge(ids: list[int], now: datetime) -> int:
    unfinished = DelightedImport.objects.filter(files__pk__in=ids).exclude(status=DelightedImport.Status.DONE)
    DelightedImport.objects.filter(pk__in=unfinished.values("pk")).filter(
        ~Q(status=DelightedImport.Status.RUNNING)
    ).update(
        status=DelightedImport.Status.FAILED,
        error="Its uploaded files were deleted under the retention policy before it finished: upload them again "
        "(nothing is imported twice).",
        finished_at=now,
    )
    return DelightedImportFile.objects.filter(pk__in=ids).delete()[0]


PURGEABLES = [
    Purgeable(
        kind="delighted_uploads",
        label="uploaded Delighted exports of unfinished imports",
        setting="RETENTION_DELIGHTED_UPLOADS_DAYS",
        clock="uploaded_at",
        rows=_uploads_rows,
        purge=_uploads_purge,
    ),
]
