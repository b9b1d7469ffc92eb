"""Sign-in with the company's identity provider: OpenID Connect through mozilla-django-oidc (docs/sign-in.md).

The library runs the protocol: the authorization code flow with PKCE (S256), a `state` bound to the browser's
session and used once, the ID token's RS256 signature checked against the provider's published keys and its
`nonce` against the session's. Here: the provider's endpoints from its discovery document, the ID token's
issuer and audience (the library checks neither), who may sign in (a verified email in an allowed domain, a
person not deactivated, someone new only when allowed), roles from a claim, and a sign-in page that says why
a sign-in was refused.
"""

import logging

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.views import LoginView
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from console.models import AuditEntry
from console.services import USER_FIELDS, audit_record, snapshot
from feedback.forms import SignInForm
from feedback.models import User

logger = logging.getLogger(__name__)

# mozilla-django-oidc's endpoint settings, and the discovery document's key for each (OpenID Connect Discovery 1.0).
DISCOVERED_ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
# Read once per process and issuer: providers move their endpoints about never (their keys are read at each sign-in).
_discovery_documents: dict[str, dict] = {}


def sso_enabled() -> bool:
    return bool(settings.OIDC_RP_CLIENT_ID)


def provider_discovery(issuer: str) -> dict:
    """The issuer's discovery document; one naming another issuer is refused (Discovery 1.0, section 4.3)."""
    if issuer not in _discovery_documents:
        response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
        if str(document.get("issuer", "")).rstrip("/") != issuer:
            raise SuspiciousOperation("The discovery document names another issuer.")
        _discovery_documents[issuer] = document
    return _discovery_documents[issuer]


def provider_setting(name: str, *default):
    """A setting mozilla-django-oidc reads; an endpoint left empty is the discovery document's."""
    value = import_from_settings(name, *default)
    if name in DISCOVERED_ENDPOINTS and not value:
        return provider_discovery(settings.OIDC_ISSUER)[DISCOVERED_ENDPOINTS[name]]
    return value


def issuer_matches(claimed, issuer: str) -> bool:
    """Whether an ID token's `iss` names the configured issuer. Google signs some tokens with the bare host
    `accounts.google.com` (its documentation allows both forms), so a claim without a scheme is read as https."""
    claimed = str(claimed or "").rstrip("/")
    return (claimed if "://" in claimed else f"https://{claimed}") == issuer


def provider_redirect_uri() -> str:
    # SITE_URL, not the request's host: the address registered at the provider, behind a TLS proxy too.
    return settings.SITE_URL + reverse("oidc_authentication_callback")


# --- who may sign in ----------------------------------------------------------------------------------


class SignInRefused(Exception):
    """Someone the provider vouched for who may not sign in here: `reason` for the log, `message` for them."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason, self.message = reason, message


def _claim_true(value) -> bool:
    # A JSON boolean from most providers; the string "true" from some (Amazon Cognito, older Okta orgs).
    return value is True or (isinstance(value, str) and value.lower() == "true")


def provider_role(claims: dict) -> str | None:
    """The role the provider's claim gives (manager when it holds any of OIDC_MANAGER_GROUPS), or None when roles
    are kept in Closeloop."""
    if not settings.OIDC_ROLES_CLAIM:
        return None
    value = claims.get(settings.OIDC_ROLES_CLAIM)
    values = {value} if isinstance(value, str) else {str(v) for v in value} if isinstance(value, list) else set()
    return User.Role.MANAGER if values & set(settings.OIDC_MANAGER_GROUPS) else User.Role.AGENT


@transaction.atomic
def provider_user_sign_in(claims: dict) -> User:
    """The person the provider's claims name, created or given their role from the claim as the settings say;
    SignInRefused when they may not sign in. Creations and role changes are in the audit trail."""
    provider = settings.OIDC_PROVIDER_NAME
    email = str(claims.get("email") or "").strip().lower()
    if "@" not in email:
        raise SignInRefused(
            "no email", _("%(provider)s gave no email address for this account.") % {"provider": provider}
        )
    if not _claim_true(claims.get(settings.OIDC_EMAIL_VERIFIED_CLAIM)):
        raise SignInRefused(
            "email not verified",
            _("%(provider)s has not verified the address %(email)s, so it cannot sign you in here.")
            % {"provider": provider, "email": email},
        )
    allowed = settings.OIDC_ALLOWED_EMAIL_DOMAINS
    if allowed and email.rpartition("@")[2] not in allowed:
        raise SignInRefused(
            "domain not allowed",
            _("%(email)s is not an address of this workspace: sign in with your work account.") % {"email": email},
        )
    actor_label = f"sign-in with {provider}"
    role = provider_role(claims)
    user = User.objects.select_for_update().filter(email__iexact=email).first()
    if user is None:
        if not settings.OIDC_CREATE_USERS:
            raise SignInRefused(
                "unknown person",
                _("Nobody signs in as %(email)s here: ask a manager to invite you.") % {"email": email},
            )
        user = User(
            email=email,
            role=role or settings.OIDC_DEFAULT_ROLE,
            first_name=str(claims.get("given_name") or "")[:150],
            last_name=str(claims.get("family_name") or "")[:150],
        )
        user.set_unusable_password()
        user.save()
        audit_record(
            actor=None,
            actor_label=actor_label,
            action=AuditEntry.Action.CREATED,
            obj=user,
            after=snapshot(user, USER_FIELDS),
        )
        return user
    if not user.is_active:
        raise SignInRefused("deactivated", _("This account is deactivated: ask a manager if you need it again."))
    if role and user.role != role:
        before = snapshot(user, USER_FIELDS)
        user.role = role
        user.save(update_fields=["role"])
        audit_record(
            actor=None,
            actor_label=actor_label,
            action=AuditEntry.Action.UPDATED,
            obj=user,
            before=before,
            after=snapshot(user, USER_FIELDS),
        )
    return user


def axes_skips_provider_callback(request, credentials) -> bool:
    """django-axes' whitelist: it counts password failures, and the provider's callback is none. Nothing can be
    guessed there (a code only works for the browser session that asked for it), and counting its refusals by
    address would lock a whole office out of the provider's button after a few uninvited colleagues tried."""
    return request.path == reverse("oidc_authentication_callback")


# --- the library's backend and views, adapted ---------------------------------------------------------


class ProviderSignInBackend(OIDCAuthenticationBackend):
    get_settings = staticmethod(provider_setting)

    def __init__(self, *args, **kwargs) -> None:
        # Django builds every backend for each password sign-in and each signed-in request (get_user): the
        # provider's settings and endpoints are read only when a sign-in comes back from it, in authenticate().
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        # Only the provider's callback passes a nonce: a password sign-in is not this backend's.
        if request is None or "nonce" not in kwargs or not sso_enabled():
            return None
        super().__init__()
        return super().authenticate(request, **kwargs)

    def get_token(self, payload: dict) -> dict:
        payload["redirect_uri"] = provider_redirect_uri()  # exactly as the authorization request sent it
        return super().get_token(payload)

    def verify_token(self, token: str, **kwargs) -> dict:
        """The library's checks (signature, nonce), then the issuer and the audience (OpenID Connect Core 3.1.3.7):
        a token another client of the same provider obtained must not sign anyone in here."""
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if not issuer_matches(payload.get("iss"), settings.OIDC_ISSUER) or self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was issued by another provider or for another client.")
        return payload

    def get_userinfo(self, access_token, id_token, payload: dict) -> dict:
        """The ID token's claims and the userinfo endpoint's together: Entra and Okta put groups, and some
        verification claims, in the ID token only. Userinfo about another subject is refused (Core 5.3.2)."""
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("The userinfo answer is about another subject than the ID token.")
        return {**payload, **userinfo}

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        try:
            return provider_user_sign_in(claims)
        except SignInRefused as refusal:
            self.request.sso_refusal = refusal.message  # the callback puts it on the sign-in page
            logger.warning("Sign-in with the identity provider refused: %s", refusal.reason)
            return None

    def get_user(self, user_id):
        # Django's check of is_active (the library's get_user skips it): a deactivated person's session ends.
        return ModelBackend.get_user(self, user_id)


class ProviderSignInStart(OIDCAuthenticationRequestView):
    """`/accounts/oidc/start/`: off to the provider, with state, nonce and the PKCE challenge kept in the session."""

    get_settings = staticmethod(provider_setting)

    def __init__(self, **kwargs) -> None:
        # The authorization endpoint may need the discovery document: read in get(), where a provider that
        # cannot be reached is a message on the sign-in page rather than an error page.
        View.__init__(self, **kwargs)

    def get(self, request):
        if not sso_enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except (requests.RequestException, ValueError, KeyError, SuspiciousOperation) as exc:
            logger.warning("The identity provider's discovery document could not be read: %s", type(exc).__name__)
            messages.error(
                request,
                _("%(provider)s cannot be reached right now. Try again in a minute.")
                % {"provider": settings.OIDC_PROVIDER_NAME},
            )
            return HttpResponseRedirect(reverse("login"))
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)

    def get_extra_params(self, request) -> dict:
        return {**super().get_extra_params(request), "redirect_uri": provider_redirect_uri()}


class ProviderSignInCallback(OIDCAuthenticationCallbackView):
    """`/accounts/oidc/callback/`: the provider sends the browser back here with a code and the state."""

    get_settings = staticmethod(provider_setting)

    def get(self, request):
        if not sso_enabled():
            raise Http404
        try:
            return super().get(request)
        except SuspiciousOperation as exc:  # a state this browser was not given, or a token failing its checks
            logger.warning("Sign-in with the identity provider refused: %s", exc)
        except (requests.RequestException, jwt.InvalidTokenError) as exc:
            logger.warning("Sign-in with the identity provider failed: %s", type(exc).__name__)
        return self.login_failure()

    def login_failure(self):
        message = getattr(self.request, "sso_refusal", "") or _(
            "Signing in with %(provider)s did not complete. Try again."
        ) % {"provider": settings.OIDC_PROVIDER_NAME}
        messages.error(self.request, message)
        return HttpResponseRedirect(reverse("login"))


class SignInView(LoginView):
    """The sign-in page: email and password, and the provider's button when one is set up."""

    authentication_form = SignInForm

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(
            **kwargs,
            provider_name=settings.OIDC_PROVIDER_NAME if sso_enabled() else "",
            password_sign_in=settings.PASSWORD_SIGN_IN,
        )

    def post(self, request, *args, **kwargs):
        if not settings.PASSWORD_SIGN_IN:
            return self.render_to_response(self.get_context_data(), status=403)
        return super().post(request, *args, **kwargs)
