import pytest

from console.checks import sign_in_settings_check

SAFE = {
    "OIDC_RP_CLIENT_ID": "closeloop",
    "OIDC_ISSUER": "https://accounts.google.com",
    "OIDC_CREATE_USERS": True,
    "OIDC_ALLOWED_EMAIL_DOMAINS": ["acme.test"],
    "OIDC_DEFAULT_ROLE": "agent",
    "OIDC_ROLES_CLAIM": "groups",
    "OIDC_MANAGER_GROUPS": ["closeloop-managers"],
    "PASSWORD_SIGN_IN": False,
}


def _ids(settings, **changes) -> list[str]:
    for name, value in {**SAFE, **changes}.items():
        setattr(settings, name, value)
    return [error.id for error in sign_in_settings_check()]


def test_a_complete_provider_set_up_passes(settings):
    assert _ids(settings) == []


def test_no_provider_and_password_sign_in_on_passes(settings):
    assert _ids(settings, OIDC_RP_CLIENT_ID="", OIDC_ISSUER="", PASSWORD_SIGN_IN=True, OIDC_ROLES_CLAIM="") == []


@pytest.mark.parametrize(
    ("changes", "error_id"),
    [
        ({"OIDC_ISSUER": ""}, "console.E001"),
        ({"OIDC_ALLOWED_EMAIL_DOMAINS": []}, "console.E002"),  # creating people would let in any account
        ({"OIDC_DEFAULT_ROLE": "admin"}, "console.E003"),
        ({"OIDC_MANAGER_GROUPS": []}, "console.E004"),  # every manager would be demoted at sign-in
        ({"OIDC_RP_CLIENT_ID": ""}, "console.E005"),  # nobody could sign in
    ],
)
def test_an_unsafe_or_incomplete_set_up_stops_the_start(settings, changes, error_id):
    assert _ids(settings, **changes) == [error_id]
