"""Sign-in with the company's identity provider in a real browser, at 360 px: the button on the sign-in page goes
to a local fake OpenID provider and back; a refusal is read on the sign-in page; both pages pass axe."""

import pytest

from tests.factories import ManagerFactory
from tests.fakes.oidc_provider import FakeOIDCProvider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def provider(settings, live_server):
    fake = FakeOIDCProvider().start()
    settings.OIDC_ISSUER = fake.issuer
    settings.OIDC_RP_CLIENT_ID = fake.client_id
    settings.OIDC_RP_CLIENT_SECRET = fake.client_secret
    settings.OIDC_PROVIDER_NAME = "Acme SSO"
    settings.OIDC_ALLOWED_EMAIL_DOMAINS = ["acme.test"]
    settings.SITE_URL = live_server.url
    yield fake
    fake.stop()


@pytest.fixture
def phone(chromium, live_server):
    context = chromium.new_context(viewport={"width": 360, "height": 740}, base_url=live_server.url)
    yield context.new_page()
    context.close()


def _no_violations(page, axe_violations) -> None:
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_browser_a_manager_signs_in_with_the_provider_s_button(phone, provider, axe_violations):
    ManagerFactory(email="lead@acme.test")
    provider.identity = {"sub": "00u1", "email": "lead@acme.test", "email_verified": False}
    phone.goto("/accounts/login/?next=/settings/")
    _no_violations(phone, axe_violations)

    phone.get_by_role("link", name="Sign in with Acme SSO").click()
    phone.wait_for_url("**/accounts/login/")
    assert phone.get_by_role("alert").inner_text() == (
        "Acme SSO has not verified the address lead@acme.test, so it cannot sign you in here."
    )
    _no_violations(phone, axe_violations)

    provider.identity = {**provider.identity, "email_verified": True}
    phone.goto("/accounts/login/?next=/settings/")
    phone.get_by_role("link", name="Sign in with Acme SSO").click()
    phone.wait_for_url("**/settings/")
    assert "lead@acme.test (Manager)" in phone.locator("header").inner_text()
    [authorization] = provider.authorizations[1:]
    assert authorization["code_challenge_method"] == "S256"
