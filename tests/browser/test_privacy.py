"""A manager answers a customer's privacy requests in a real browser, at 360 px: finds them, downloads their data,
erases them after the confirmation page; every page has no axe-core violation and loads nothing from elsewhere."""

import json

import pytest
from playwright.sync_api import expect

from console.models import AuditEntry
from surveys.models import Contact, Response
from tests.browser.console_pages import assert_accessible_at_its_width, log_in
from tests.factories import ContactFactory, ManagerFactory, ResponseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone_page(chromium, live_server):
    context = chromium.new_context(viewport={"width": 360, "height": 740}, base_url=live_server.url)
    yield context.new_page()
    context.close()


def test_browser_manager_exports_then_erases_a_customer(phone_page, axe_violations, live_server):
    page = phone_page
    ManagerFactory(email="dpo@closeloop.test")
    contact = ContactFactory(email="ann.martin@example.com", name="Ann Martin", phone="+33612345678")
    ResponseFactory(invitation__contact=contact, score=3, comment="Ann here: the parcel was late")
    elsewhere = []
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(live_server.url) else None)
    log_in(page, "dpo@closeloop.test", "password", "/settings/")

    page.get_by_role("link", name="Privacy").click()
    page.wait_for_url("**/settings/privacy/")
    assert_accessible_at_its_width(page, axe_violations)
    page.get_by_label("Email, phone, name, external id or contact id").fill("ANN.MARTIN@example.com")
    page.get_by_role("button", name="Search").click()
    assert_accessible_at_its_width(page, axe_violations)
    page.get_by_role("link", name=f"#{contact.pk}").click()
    page.wait_for_url(f"**/settings/privacy/{contact.pk}/")
    assert_accessible_at_its_width(page, axe_violations)

    with page.expect_download() as download:
        page.get_by_role("button", name="Download their data (JSON)").click()
    data = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert download.value.suggested_filename == f"contact-{contact.pk}.json"
    assert [(r["score"], r["comment"]) for r in data["responses"]] == [(3, "Ann here: the parcel was late")]

    page.get_by_role("link", name="Erase this person…").click()
    page.wait_for_url(f"**/settings/privacy/{contact.pk}/erase/")
    assert_accessible_at_its_width(page, axe_violations)
    page.get_by_role("button", name="Erase for good").click()  # without the confirmation: refused, nothing erased
    expect(page.get_by_role("alert").filter(has_text="Tick this box to confirm the erasure.")).to_be_visible()
    assert_accessible_at_its_width(page, axe_violations)
    page.get_by_label("Keep their scores, anonymous").check()
    page.get_by_label("They asked never to be contacted again").check()
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Erase for good").click()
    page.wait_for_url(f"**/settings/privacy/{contact.pk}/")
    expect(page.get_by_role("status").filter(has_text="Erased on")).to_be_visible()
    assert_accessible_at_its_width(page, axe_violations)

    assert Contact.objects.get(pk=contact.pk).email == ""
    assert Response.objects.values_list("score", "comment").get() == (3, "")
    assert list(AuditEntry.objects.order_by("pk").values_list("action", "actor__email")) == [
        ("exported", "dpo@closeloop.test"),
        ("erased", "dpo@closeloop.test"),
    ]
    assert elsewhere == []
