"""A manager brings Delighted's history in from the console, on a 360 px phone, in a real browser: uploads a CSV
export and a people export, checks the columns, and reads the summary; every page passes axe-core."""

from pathlib import Path

import pytest

from surveys.models import Response
from tests.browser.console_pages import assert_accessible_at_its_width, log_in
from tests.factories import ManagerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).resolve().parents[1] / "delighted" / "fixtures"


@pytest.fixture
def phone_page(chromium, live_server):
    context = chromium.new_context(viewport={"width": 360, "height": 740}, base_url=live_server.url)
    yield context.new_page()
    context.close()


def test_browser_manager_imports_a_delighted_export_from_the_console(phone_page, axe_violations):
    page = phone_page
    ManagerFactory(email="boss@acme.test", password="a long passphrase 1")
    log_in(page, "boss@acme.test", "a long passphrase 1", then="/settings/")
    page.get_by_role("link", name="Import from Delighted").click()
    page.wait_for_url("**/settings/import/delighted/")
    assert_accessible_at_its_width(page, axe_violations)

    page.get_by_label("Export files").set_input_files([str(FIXTURES / "responses.csv"), str(FIXTURES / "people.json")])
    page.get_by_role("button", name="Upload and check").click()
    page.wait_for_url("**/columns/")
    assert_accessible_at_its_width(page, axe_violations)
    assert page.get_by_label("Score").input_value() == "score"
    page.get_by_label("Plan").select_option("ignore")
    page.get_by_role("button", name="Import").click()

    page.wait_for_url("**/settings/import/delighted/*/")
    page.get_by_text("Done").wait_for()
    assert_accessible_at_its_width(page, axe_violations)
    summary = page.locator("ul.card").inner_text()
    assert "Imported: 2 responses (1 notes, 0 additional answers), 2 people, 0 unsubscribes, 0 bounces." in summary
    assert "1 no time of the answer, or one that is not a date (e.g. responses.csv line 5)" in summary
    assert Response.objects.count() == 2
