import math

from django.conf import settings
from django.core.cache import caches
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from config.cache import cache_count
from surveys.models import ApiKey
from surveys.selectors import api_key_get_active
from surveys.services.api_keys import api_key_mark_used


class ApiKeyUser:
    """The principal of a request signed with an API key (not a person)."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key

    def __str__(self) -> str:
        return f"API key {self.api_key.name}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>`."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, raw_key = header.partition(" ")
        if scheme != self.keyword:
            return None
        api_key = api_key_get_active(raw_key=raw_key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        api_key_mark_used(api_key=api_key)
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


def has_scope(request, scope: str) -> bool:
    return isinstance(request.auth, ApiKey) and scope in request.auth.scopes


class ScopePermission(permissions.BasePermission):
    """A request signed with an API key that holds `scope` (the native API and Delighted's share these)."""

    scope = ""

    def has_permission(self, request, view) -> bool:
        return has_scope(request, self.scope)


class CanWriteEvents(ScopePermission):
    scope = ApiKey.Scope.EVENTS_WRITE
    message = "This API key lacks the events:write scope."


class CanReadResponses(ScopePermission):
    scope = ApiKey.Scope.RESPONSES_READ
    message = "This API key lacks the responses:read scope."


class IsAdminKey(ScopePermission):
    scope = ApiKey.Scope.ADMIN
    message = "This API key lacks the admin scope."


class ApiKeyRateThrottle(throttling.SimpleRateThrottle):
    """`API_RATE_LIMIT` requests per API key per window; requests not signed with a key are not counted here.

    One counter per key and window, incremented atomically in the cache (shared by every process with
    `CACHE_URL` on Redis; one round trip per request, `config.cache.cache_count`). DRF's own counting
    keeps a list of every request time in the window and rewrites it on each request: up to 6,000
    timestamps pickled twice per request at the default rate, and concurrent requests overwrite each
    other's list, so a burst could pass uncounted.
    """

    def get_rate(self) -> str:
        return settings.API_RATE_LIMIT

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return f"throttle:api_key:{request.auth.pk}"

    def allow_request(self, request, view) -> bool:
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        # The rate is read per request so that a changed setting applies without a restart.
        limit, seconds = self.parse_rate(self.get_rate())
        now = self.timer()
        window = int(now // seconds)
        count = cache_count(caches["default"], f"{key}:{seconds}:{window}", seconds + 1)
        self.retry_after = math.ceil((window + 1) * seconds - now)
        return count <= limit

    def wait(self) -> int:
        return self.retry_after


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "http", "scheme": "bearer", "description": "An API key from `manage.py create_api_key`."}
