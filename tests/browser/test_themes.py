"""The manager's theme page `/themes/` in a real browser, at a desk and on a 360 px phone: the taxonomy, a
candidate from discovery, a saved change and a refused one, each with no WCAG 2.2 AA violation (axe-core),
no sideways scroll and no request to another host."""

import pytest
from django.utils import timezone

from insights import taxonomy
from insights.models import Theme, ThemeCandidate
from tests.factories import ManagerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}


@pytest.fixture(params=list(VIEWPORTS))
def page(request, chromium, live_server):
    context = chromium.new_context(viewport=VIEWPORTS[request.param], base_url=live_server.url)
    page = context.new_page()
    page.third_party = []
    page.on("request", lambda r: page.third_party.append(r.url) if not r.url.startswith(live_server.url) else None)
    yield page
    context.close()


@pytest.fixture
def themes_page(page):
    """Two themes of the manager's, one candidate found in comments, a manager signed in on /themes/."""
    taxonomy.theme_create(name="Packaging", seeds=["crushed box", "emballage"])
    taxonomy.theme_create(name="Returns", seeds=["refund label", "retour*"])
    ThemeCandidate.objects.create(
        key_phrases=["parking", "stationnement"],
        size=4,
        typical_comments=["No parking near the store", "Impossible de se garer", "Parking was full again"],
        discovered_at=timezone.now(),
    )
    ManagerFactory(email="lead@closeloop.test")
    page.goto("/accounts/login/?next=/themes/")
    page.get_by_label("Email").fill("lead@closeloop.test")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/themes/")
    return page


def _accessible_and_fits(page, axe_violations) -> None:
    violations = axe_violations(page)
    assert violations == [], violations
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
        ".map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), wide
    assert page.third_party == []


def test_browser_themes_page_has_no_accessibility_violation(themes_page, axe_violations):
    page = themes_page
    assert page.get_by_role("heading", name="Themes", level=1).is_visible()
    assert page.get_by_role("heading", name="parking, stationnement", level=3).is_visible()
    assert page.get_by_label("Seed phrases, one per line").nth(0).is_visible()
    _accessible_and_fits(page, axe_violations)

    # A saved change: the page comes back with its status message.
    packaging = page.get_by_role("region", name="Packaging (packaging)")
    packaging.get_by_label("Seed phrases, one per line").fill("crushed box\ncarton abîmé")
    packaging.get_by_role("button", name="Save Packaging").click()
    page.wait_for_url("**/themes/")
    assert page.get_by_role("status").inner_text() == "Theme “Packaging” saved."
    assert Theme.objects.get(slug="packaging").seeds == ["crushed box", "carton abîmé"]
    _accessible_and_fits(page, axe_violations)

    # A refused one: the same page, its error said in words, nothing stored.
    add = page.locator("form", has=page.get_by_role("button", name="Add the theme"))
    add.get_by_label("Name").fill("Returns")
    add.get_by_role("button", name="Add the theme").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "slug: A theme “returns” already exists."
    assert Theme.objects.filter(name="Returns").count() == 1
    _accessible_and_fits(page, axe_violations)
