"""Sign-in with the company's identity provider, end to end against a local fake OpenID provider (RS256, JWKS,
PKCE): the test client is the browser, the backend talks to the fake over loopback."""

import socket
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from axes.models import AccessAttempt
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.messages import get_messages
from django.test import Client

from console.models import AuditEntry
from console.sso import issuer_matches
from feedback.models import User
from tests.factories import ManagerFactory, UserFactory
from tests.fakes.oidc_provider import FakeOIDCProvider

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(settings):
    fake = FakeOIDCProvider().start()
    settings.OIDC_ISSUER = fake.issuer
    settings.OIDC_RP_CLIENT_ID = fake.client_id
    settings.OIDC_RP_CLIENT_SECRET = fake.client_secret
    settings.OIDC_PROVIDER_NAME = "Acme SSO"
    settings.OIDC_ALLOWED_EMAIL_DOMAINS = ["acme.test"]
    settings.SITE_URL = "http://testserver"
    yield fake
    fake.stop()


def provider_round_trip(client, provider, next_url: str = "") -> str:
    """The browser's trip: Closeloop's start page, the provider's authorization page; the callback's address."""
    start = client.get("/accounts/oidc/start/", {"next": next_url} if next_url else {})
    assert start.status_code == 302
    assert start["Location"].startswith(f"{provider.url}/authorize?")
    back = requests.get(start["Location"], allow_redirects=False, timeout=5)
    return back.headers["Location"]


def sign_in(client, provider, next_url: str = ""):
    callback = urlparse(provider_round_trip(client, provider, next_url))
    assert callback.path == "/accounts/oidc/callback/"
    return client.get(f"{callback.path}?{callback.query}")


def signed_in(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def refusal(client, response) -> str:
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


def test_a_new_person_is_created_with_the_role_from_the_groups_claim(client, provider, settings):
    settings.OIDC_CREATE_USERS = True
    settings.OIDC_ROLES_CLAIM = "groups"
    settings.OIDC_MANAGER_GROUPS = ["closeloop-managers"]
    provider.identity = {
        "sub": "00u1",
        "email": "Ada@Acme.test",
        "email_verified": True,
        "given_name": "Ada",
        "family_name": "Lovelace",
    }
    provider.id_token_extra = {"groups": ["staff", "closeloop-managers"]}  # in the ID token only, as Entra sends it

    response = sign_in(client, provider, next_url="/settings/")

    user = User.objects.get()
    assert (response.status_code, response["Location"]) == (302, "/settings/")
    assert signed_in(client) == user
    assert (user.email, user.role, user.first_name, user.last_name, user.has_usable_password()) == (
        "ada@acme.test",
        "manager",
        "Ada",
        "Lovelace",
        False,
    )
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.actor_label, entry.action, entry.object_id) == (
        None,
        "sign-in with Acme SSO",
        "created",
        str(user.pk),
    )
    assert entry.changes["role"] == [None, "manager"]
    # What the library sent: the authorization code flow with PKCE (S256), a state and a nonce, to SITE_URL's callback.
    [authorization] = provider.authorizations
    [token_request] = provider.token_requests
    assert authorization["response_type"] == "code"
    assert authorization["scope"] == "openid email profile"
    assert authorization["code_challenge_method"] == "S256"
    assert authorization["redirect_uri"] == token_request["redirect_uri"] == "http://testserver/accounts/oidc/callback/"
    assert len(authorization["state"]) == 32 and len(authorization["nonce"]) == 32
    assert len(token_request["code_verifier"]) == 64


def test_a_new_person_without_a_manager_group_gets_the_default_role(client, provider, settings):
    settings.OIDC_CREATE_USERS = True
    settings.OIDC_DEFAULT_ROLE = "agent"

    sign_in(client, provider)

    assert signed_in(client).role == "agent"


def test_an_existing_person_is_matched_by_email_and_keeps_the_role_set_in_closeloop(client, provider):
    manager = ManagerFactory(email="ada@acme.test")

    response = sign_in(client, provider)

    assert (response.status_code, response["Location"]) == (302, "/follow-ups/")
    assert signed_in(client) == manager
    assert User.objects.count() == 1
    manager.refresh_from_db()
    assert manager.role == "manager"
    assert not AuditEntry.objects.exists()


def test_a_role_mapped_from_the_claim_is_set_again_at_each_sign_in_with_its_audit(client, provider, settings):
    settings.OIDC_ROLES_CLAIM = "groups"
    settings.OIDC_MANAGER_GROUPS = ["closeloop-managers"]
    manager = ManagerFactory(email="ada@acme.test")
    provider.identity = {**provider.identity, "groups": "staff"}  # a single value, as some providers send it

    sign_in(client, provider)

    manager.refresh_from_db()
    assert manager.role == "agent"
    entry = AuditEntry.objects.get()
    assert (entry.actor_label, entry.action, entry.changes) == (
        "sign-in with Acme SSO",
        "updated",
        {"role": ["manager", "agent"]},
    )


@pytest.mark.parametrize("verified", [False, "false", None])
def test_an_unverified_email_is_refused(client, provider, settings, verified):
    settings.OIDC_CREATE_USERS = True
    UserFactory(email="ada@acme.test")
    provider.identity = {"sub": "user-1", "email": "ada@acme.test", "email_verified": verified}

    response = sign_in(client, provider)

    assert refusal(client, response) == (
        "Acme SSO has not verified the address ada@acme.test, so it cannot sign you in here."
    )
    assert signed_in(client) is None
    assert User.objects.count() == 1


def test_a_verified_claim_sent_as_a_string_is_accepted(client, provider):
    UserFactory(email="ada@acme.test")
    provider.identity = {"sub": "user-1", "email": "ada@acme.test", "email_verified": "true"}

    sign_in(client, provider)

    assert signed_in(client).email == "ada@acme.test"


def test_an_email_of_another_domain_is_refused_even_for_a_known_person(client, provider, settings):
    settings.OIDC_CREATE_USERS = True
    UserFactory(email="ada@gmail.test")
    provider.identity = {"sub": "user-1", "email": "ada@gmail.test", "email_verified": True}

    response = sign_in(client, provider)

    assert (
        refusal(client, response)
        == "ada@gmail.test is not an address of this workspace: sign in with your work account."
    )
    assert signed_in(client) is None
    assert User.objects.count() == 1


def test_a_deactivated_person_is_refused_and_their_open_session_ends(client, provider):
    user = UserFactory(email="ada@acme.test")
    sign_in(client, provider)
    assert client.get("/follow-ups/").status_code == 200

    User.objects.filter(pk=user.pk).update(is_active=False)

    assert client.get("/follow-ups/")["Location"].startswith("/accounts/login/")
    response = sign_in(client, provider)
    assert refusal(client, response) == "This account is deactivated: ask a manager if you need it again."
    assert client.get("/follow-ups/")["Location"].startswith("/accounts/login/")


def test_someone_unknown_is_refused_when_creating_people_is_off(client, provider):
    response = sign_in(client, provider)

    assert refusal(client, response) == "Nobody signs in as ada@acme.test here: ask a manager to invite you."
    assert not User.objects.exists()


def test_a_state_this_browser_was_not_given_is_refused_and_a_callback_works_once(client, provider):
    UserFactory(email="ada@acme.test")
    callback = urlparse(provider_round_trip(client, provider))
    query = parse_qs(callback.query)

    forged = client.get(callback.path, {"code": query["code"][0], "state": "forged-state"})
    assert refusal(client, forged) == "Signing in with Acme SSO did not complete. Try again."
    assert signed_in(client) is None
    assert provider.token_requests == []  # refused before the code was spent

    assert signed_in(client) is None
    client.get(f"{callback.path}?{callback.query}")
    assert signed_in(client).email == "ada@acme.test"
    client.logout()
    replayed = client.get(f"{callback.path}?{callback.query}")
    assert refusal(client, replayed) == "Signing in with Acme SSO did not complete. Try again."
    assert signed_in(client) is None


def test_another_browser_cannot_use_the_callback(client, provider):
    UserFactory(email="ada@acme.test")
    callback = provider_round_trip(client, provider)

    other = Client()
    response = other.get(callback.removeprefix("http://testserver"))

    assert refusal(other, response) == "Signing in with Acme SSO did not complete. Try again."
    assert other.session.get("_auth_user_id") is None


@pytest.mark.parametrize(
    "forged",
    [
        {"nonce": "another-nonce"},  # a token minted for another sign-in
        {"aud": "another-client"},  # a token for another application of the same provider
        {"iss": "http://127.0.0.1:9/other-issuer"},
        {"exp": 1_000_000_000},  # expired in 2001
    ],
)
def test_an_id_token_failing_its_checks_is_refused(client, provider, forged):
    UserFactory(email="ada@acme.test")
    provider.id_token_extra = forged

    response = sign_in(client, provider)

    assert refusal(client, response) == "Signing in with Acme SSO did not complete. Try again."
    assert signed_in(client) is None


def test_an_id_token_signed_by_another_key_is_refused(client, provider):
    UserFactory(email="ada@acme.test")
    published = provider.jwks()
    provider.jwks = lambda: published  # the provider signs with a key its JWKS does not publish
    provider.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    response = sign_in(client, provider)

    assert refusal(client, response) == "Signing in with Acme SSO did not complete. Try again."
    assert signed_in(client) is None


def test_refused_sign_ins_are_not_password_failures_for_axes(client, provider, settings):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(email="ada@acme.test")
    provider.identity = {**provider.identity, "email_verified": False}
    for _ in range(3):
        sign_in(client, provider)

    # Nothing to guess at the callback (a code works only for the session that asked for it): one office's
    # uninvited colleagues do not lock everyone behind its address out of the provider's button.
    assert not AccessAttempt.objects.exists()
    provider.identity = {**provider.identity, "email_verified": True}
    sign_in(client, provider)
    assert signed_in(client).email == "ada@acme.test"
    client.logout()
    for _ in range(2):
        client.post("/accounts/login/", {"username": "ada@acme.test", "password": "wrong"})
    assert client.post("/accounts/login/", {"username": "ada@acme.test", "password": "password"}).status_code == 429


def test_the_sign_in_page_offers_the_provider_and_password_sign_in_can_be_turned_off(client, provider, settings):
    UserFactory(email="agent@acme.test")
    page = client.get("/accounts/login/?next=/settings/").content.decode()
    assert 'href="/accounts/oidc/start/?next=/settings/">Sign in with Acme SSO</a>' in page
    assert 'name="password"' in page
    french = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Se connecter avec Acme SSO" in french and "Mot de passe oublié ?" in french

    settings.PASSWORD_SIGN_IN = False
    page = client.get("/accounts/login/").content.decode()
    refused = client.post("/accounts/login/", {"username": "agent@acme.test", "password": "password"})

    assert "Sign in with Acme SSO" in page and 'name="password"' not in page
    assert refused.status_code == 403
    assert signed_in(client) is None
    assert client.login(username="agent@acme.test", password="password") is False  # the admin's form too


def test_without_a_provider_there_is_no_button_and_no_provider_pages(client, settings):
    settings.OIDC_RP_CLIENT_ID = ""

    page = client.get("/accounts/login/").content.decode()

    assert "/accounts/oidc/start/" not in page and 'name="password"' in page
    assert client.get("/accounts/oidc/start/").status_code == 404
    assert client.get("/accounts/oidc/callback/", {"code": "c", "state": "s"}).status_code == 404


def test_a_provider_that_cannot_be_reached_is_a_message_on_the_sign_in_page(client, settings):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    settings.OIDC_ISSUER = f"http://127.0.0.1:{port}"
    settings.OIDC_RP_CLIENT_ID = "closeloop"
    settings.OIDC_PROVIDER_NAME = "Acme SSO"

    response = client.get("/accounts/oidc/start/")

    assert refusal(client, response) == "Acme SSO cannot be reached right now. Try again in a minute."


@pytest.mark.parametrize(
    ("claimed", "matches"),
    [
        ("https://accounts.google.com", True),
        ("accounts.google.com", True),  # Google's other form of its own issuer
        ("https://accounts.google.com/", True),
        ("http://accounts.google.com", False),
        ("https://accounts.google.com.evil.test", False),
        (None, False),
    ],
)
def test_an_issuer_matches_only_the_configured_one(claimed, matches):
    assert issuer_matches(claimed, "https://accounts.google.com") is matches
