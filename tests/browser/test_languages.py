"""A French-speaking agent in a real browser: the inbox, a case and the dashboard in French at 360 px, without
horizontal scrolling and without axe-core violations; switching back to English from the account page."""

import pytest

from tests.factories import FollowUpFactory, ResponseFactory, RootCauseFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def french_agent():
    team = TeamFactory(name="Service client")
    agent = UserFactory(email="camille@acme.test", team=team, language="fr")
    RootCauseFactory(name="Retard de livraison")
    case = FollowUpFactory(
        team=team,
        assignee=agent,
        priority="high",
        response=ResponseFactory(score=2, comment="Le colis est arrivé abîmé", invitation__contact__name="Léa Martin"),
    )
    return agent, case


def _log_in(page, email: str) -> None:
    page.goto("/accounts/login/?next=/follow-ups/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/follow-ups/")


def test_browser_a_french_agent_works_in_french_at_360_px_without_accessibility_violations(
    chromium, live_server, french_agent, axe_violations
):
    agent, case = french_agent
    context = chromium.new_context(viewport={"width": 360, "height": 740}, base_url=live_server.url)
    page = context.new_page()
    try:
        _log_in(page, agent.email)
        assert page.locator("html").get_attribute("lang") == "fr"
        assert page.get_by_role("heading", level=1).inner_text() == "Boîte de réception"
        assert page.get_by_role("button", name="Prendre en charge").is_visible()
        assert "Priorité haute" in page.locator(".case-meta").first.inner_text()
        found = {"inbox": axe_violations(page)}
        widths = {"inbox": page.evaluate("document.documentElement.scrollWidth")}

        page.get_by_role("link", name="Léa Martin").click()
        page.wait_for_url(f"**/follow-ups/{case.pk}/")
        assert page.get_by_role("heading", name="Répondre au client").is_visible()
        assert page.get_by_label("Cause racine").is_visible()
        found["case"] = axe_violations(page)
        widths["case"] = page.evaluate("document.documentElement.scrollWidth")

        page.goto("/dashboard/")
        assert page.get_by_role("heading", name="Clore la boucle").is_visible()
        found["dashboard"] = axe_violations(page)
        widths["dashboard"] = page.evaluate("document.documentElement.scrollWidth")
    finally:
        context.close()
    assert found == {"inbox": [], "case": [], "dashboard": []}
    assert widths == {"inbox": 360, "case": 360, "dashboard": 360}


def test_browser_an_agent_switches_to_english_from_the_account_page(browser_page, french_agent):
    agent, _case = french_agent
    page = browser_page
    _log_in(page, agent.email)

    page.get_by_role("link", name=agent.email).click()
    page.wait_for_url("**/account/")
    page.get_by_label("Langue").select_option("en")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_load_state()

    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Your account"
    assert "Saved. Your pages and emails now use this language." in page.get_by_role("status").inner_text()
    agent.refresh_from_db()
    assert agent.language == "en"
