import math
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from config.cache import cache_count
from surveys.models import ApiKey
from surveys.selectors import api_key_get_active_counted
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
        # The key's rate limit is counted in the round trip that reads the keys' version, when it can be: every
        # request signed with the key counts, one refused for its scope too.
        api_key, count = api_key_get_active_counted(raw_key=raw_key.strip(), counter=_rate_counter(request))
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        api_key_mark_used(api_key=api_key)
        if count is not None:
            request.api_key_rate_count = count
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


@dataclass(frozen=True, slots=True)
class RateWindow:
    """The current window of an API key's rate limit: its counter's cache key, how long it lasts, how many
    requests it allows, and how many seconds are left of it."""

    counter: str
    seconds: int
    limit: int
    retry_after: int


def _rate_counter(request) -> Callable[[ApiKey], tuple[str, int]]:
    """What `api_key_get_active_counted` counts: the key's current window, kept on the request for the throttle."""

    def counter(api_key: ApiKey) -> tuple[str, int]:
        request.api_key_rate_window = window = ApiKeyRateThrottle().window(api_key)
        return window.counter, window.seconds + 1

    return counter


class ApiKeyRateThrottle(throttling.SimpleRateThrottle):
    """`API_RATE_LIMIT` requests per API key per window; requests not signed with a key are not counted here.

    One counter per key and window, incremented atomically in the cache (shared by every process with
    `CACHE_URL` on Redis; one round trip per request, `config.cache.cache_count`, which a Bearer key's
    authentication usually takes along with its own). DRF's own counting keeps a list of every request time
    in the window and rewrites it on each request: up to 6,000 timestamps pickled twice per request at the
    default rate, and concurrent requests overwrite each other's list, so a burst could pass uncounted.
    """

    def get_rate(self) -> str:
        # Read at each request's throttle (DRF makes one per request): a changed setting applies without a restart.
        return settings.API_RATE_LIMIT

    def window(self, api_key: ApiKey) -> RateWindow:
        now = self.timer()
        window = int(now // self.duration)
        return RateWindow(
            counter=f"throttle:api_key:{api_key.pk}:{self.duration}:{window}",
            seconds=self.duration,
            limit=self.num_requests,
            retry_after=math.ceil((window + 1) * self.duration - now),
        )

    def allow_request(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            return True
        count = getattr(request, "api_key_rate_count", None)
        if count is None:
            window = self.window(request.auth)
            count = cache_count(caches["default"], window.counter, window.seconds + 1)
        else:
            window = request.api_key_rate_window
        self.retry_after = window.retry_after
        return count <= window.limit

    def wait(self) -> int:
        return self.retry_after


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "http", "scheme": "bearer", "description": "An API key from `manage.py create_api_key`."}
