"""Start-up checks of sign-in with the identity provider (docs/sign-in.md): a set of settings that would let
anyone in, lock everyone out or demote every manager stops the start with its reason."""

from django.conf import settings
from django.core.checks import Error, register

from feedback.models import User


@register("security")
def sign_in_settings_check(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    enabled = bool(settings.OIDC_RP_CLIENT_ID)
    if enabled and not settings.OIDC_ISSUER:
        errors.append(
            Error(
                "OIDC_RP_CLIENT_ID is set without OIDC_ISSUER.",
                hint="Set the provider's issuer URL: its endpoints are read from its discovery document, and every "
                "ID token must name it.",
                id="console.E001",
            )
        )
    if enabled and settings.OIDC_CREATE_USERS and not settings.OIDC_ALLOWED_EMAIL_DOMAINS:
        errors.append(
            Error(
                "OIDC_CREATE_USERS is on without OIDC_ALLOWED_EMAIL_DOMAINS.",
                hint="Anyone with an account at the provider (any Google account, say) would be let in: name your "
                "email domains.",
                id="console.E002",
            )
        )
    if settings.OIDC_DEFAULT_ROLE not in User.Role.values:
        errors.append(
            Error(f"OIDC_DEFAULT_ROLE={settings.OIDC_DEFAULT_ROLE!r}: use agent or manager.", id="console.E003")
        )
    if settings.OIDC_ROLES_CLAIM and not settings.OIDC_MANAGER_GROUPS:
        errors.append(
            Error(
                "OIDC_ROLES_CLAIM is set without OIDC_MANAGER_GROUPS.",
                hint="Every manager would become an agent at their next sign-in: name the claim's values that make "
                "a manager, or leave OIDC_ROLES_CLAIM empty to keep roles in Closeloop.",
                id="console.E004",
            )
        )
    if not settings.PASSWORD_SIGN_IN and not enabled:
        errors.append(
            Error(
                "PASSWORD_SIGN_IN is off and no identity provider is set up (OIDC_RP_CLIENT_ID): nobody could sign in.",
                id="console.E005",
            )
        )
    return errors
