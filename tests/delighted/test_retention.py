from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from delighted.models import DelightedImport, DelightedImportFile
from workspace.services.retention import purge_expired

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 10, 12, tzinfo=UTC)


def _import_with_a_file(status: str, uploaded: datetime) -> DelightedImport:
    delighted_import = DelightedImport.objects.create(status=status, file_names=["people.json"])
    with time_machine.travel(uploaded, tick=False):
        DelightedImportFile.objects.create(delighted_import=delighted_import, name="people.json", content="[]")
    return delighted_import


def test_uploads_of_imports_left_unfinished_go_after_their_retention_and_the_import_says_why():
    abandoned = _import_with_a_file("mapping", NOW - timedelta(days=8))
    failed = _import_with_a_file("failed", NOW - timedelta(days=30))
    recent = _import_with_a_file("mapping", NOW - timedelta(days=6))

    [report] = purge_expired(kinds=["delighted_uploads"], now=NOW)

    assert report.removed == 2
    assert list(DelightedImportFile.objects.values_list("delighted_import", flat=True)) == [recent.pk]
    for delighted_import in (abandoned, failed):
        delighted_import.refresh_from_db()
        assert (delighted_import.status, delighted_import.finished_at) == ("failed", NOW)
        assert delighted_import.error.startswith("Its uploaded files were deleted under the retention policy")
    recent.refresh_from_db()
    assert (recent.status, recent.error) == ("mapping", "")
