"""The public link and the kiosk in a real browser at 320 px: every page accessible (axe-core, WCAG 2.2 AA),
nothing wider than the phone, one answer per browser, the kiosk back at its start after the thank-you."""

import pytest
from django.core.cache import cache

from surveys.models import Invitation, Response
from tests.browser.test_respondent_page import add_questions, fits_the_phone
from tests.factories import SurveyFactory, SurveyLinkFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _link(kind: str = "nps", **fields):
    survey = SurveyFactory(kind=kind, product_name="Acme", thank_you_text={})
    return SurveyLinkFactory(survey=survey, slug="store-7", kiosk_enabled=True, **fields)


def _score(page, score: int) -> None:
    page.locator(f"input[name=score][value='{score}']").check(force=True)


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("kind", ["nps", "thumbs"])
def test_browser_link_pages_have_no_axe_violations_at_320px(browser_page, axe_violations, locale, kind):
    def _checked(page) -> tuple[list[dict], bool]:
        return axe_violations(page), fits_the_phone(page)

    link = _link(kind=kind)
    add_questions(link.survey)
    button = {"en": ("Send", "Next"), "fr": ("Envoyer", "Suivant")}[locale]
    checked = {}

    browser_page.goto(f"/l/store-7/?lang={locale}")
    checked["score"] = _checked(browser_page)
    browser_page.evaluate("document.getElementById('score-form').noValidate = true")
    browser_page.get_by_role("button", name=button[0]).click()
    checked["score error"] = _checked(browser_page)
    browser_page.locator("input[name=score]").first.check(force=True)
    browser_page.get_by_role("button", name=button[0]).click()
    browser_page.wait_for_url("**/s/*/?step=comment")
    checked["reason and contact"] = _checked(browser_page)
    browser_page.locator("#contact_email").fill("not an address")
    browser_page.get_by_role("button", name=button[1]).click()
    checked["contact error"] = _checked(browser_page)
    browser_page.locator("#contact_email").fill("ana@example.com")
    browser_page.get_by_role("button", name=button[1]).click()
    browser_page.wait_for_url("**/s/*/?step=question*")
    checked["question"] = _checked(browser_page)

    browser_page.goto(f"/l/store-7/?kiosk=1&lang={locale}")
    checked["kiosk score"] = _checked(browser_page)
    browser_page.goto(f"/l/store-7/?kiosk=1&lang={locale}&step=thanks")
    checked["kiosk thanks"] = _checked(browser_page)
    browser_page.goto("/l/unknown-9/")
    checked["unknown"] = _checked(browser_page)
    link.is_enabled = False
    link.save()
    browser_page.goto(f"/l/store-7/?lang={locale}")
    checked["closed"] = _checked(browser_page)

    assert checked == {page: ([], True) for page in checked}
    assert Response.objects.get().contact.email == "ana@example.com"


def test_browser_link_takes_one_answer_per_browser(browser_page):
    _link()
    browser_page.goto("/l/store-7/")
    _score(browser_page, 9)
    browser_page.get_by_role("button", name="Send").click()
    browser_page.wait_for_url("**/s/*/?step=comment")
    answer = browser_page.url.split("?")[0]

    browser_page.goto("/l/store-7/")
    assert browser_page.url == answer
    # Back on its own answer, the browser sees its score and may change it; nothing new was recorded.
    assert browser_page.locator("input[name=score][value='9']").is_checked()
    assert list(Response.objects.values_list("score", flat=True)) == [9]


def test_browser_kiosk_starts_again_after_the_thank_you(browser_page):
    _link(kind="csat")
    browser_page.goto("/l/store-7/?kiosk=1")
    assert browser_page.locator("body.kiosk").count() == 1
    _score(browser_page, 2)
    browser_page.get_by_role("button", name="Send").click()
    browser_page.wait_for_url("**/s/*/?step=comment")
    assert browser_page.get_by_role("link", name="Change my answer").count() == 0
    browser_page.get_by_label("What is the main reason for your score?").fill("Long queue")
    browser_page.get_by_role("button", name="Next").click()
    browser_page.wait_for_url("**/l/store-7/?kiosk=1&lang=en&step=thanks")
    assert browser_page.get_by_role("heading").inner_text() == "Thank you for your feedback!"

    # A few seconds later the kiosk is back at its start for the next person, whose answer is theirs.
    browser_page.wait_for_url("**/l/store-7/?kiosk=1&lang=en", timeout=15000)
    _score(browser_page, 5)
    browser_page.get_by_role("button", name="Send").click()
    browser_page.wait_for_url("**/s/*/?step=comment")
    assert sorted(Response.objects.values_list("score", "comment")) == [(2, "Long queue"), (5, "")]
    assert set(Invitation.objects.values_list("channel", flat=True)) == {"kiosk"}
