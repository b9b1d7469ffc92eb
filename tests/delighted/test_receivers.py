import pytest

from delighted.models import DelightedImport, DelightedImportFile
from surveys.services.privacy import contact_erase
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _waiting_upload(content: str) -> DelightedImport:
    delighted_import = DelightedImport.objects.create(status="mapping", file_names=["responses.csv"])
    DelightedImportFile.objects.create(delighted_import=delighted_import, name="responses.csv", content=content)
    return delighted_import


def test_erasing_a_person_deletes_the_waiting_uploads_that_name_them():
    naming = _waiting_upload("Score,Date,Email\n3,2024-03-01,JONY@appleseed.com\n")
    other = _waiting_upload("Score,Date,Email\n9,2024-03-01,ada@example.com\n")

    result = contact_erase(contact=ContactFactory(email="jony@appleseed.com"))

    assert result.rows["uploaded Delighted exports"] == 1
    assert list(DelightedImportFile.objects.values_list("delighted_import", flat=True)) == [other.pk]
    naming.refresh_from_db()
    assert naming.status == "failed"
    assert naming.error.startswith("Its uploaded files named a person who was erased, and were deleted")
