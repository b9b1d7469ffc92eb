"""Optional error reports to Sentry (`SENTRY_DSN`), with personal data scrubbed before anything leaves.

Nothing personal is collected (`data_collection`, the SDK's successor of `send_default_pii=False`),
and `event_scrub` runs on every event: request bodies, cookies, query strings and headers other than
a few harmless ones are dropped; survey and unsubscribe tokens in paths, email addresses and phone
numbers anywhere in the event are replaced by `[Filtered]`.
"""

import re

FILTERED = "[Filtered]"
_KEEP_HEADERS = {"content-type", "content-length", "user-agent", "x-request-id", "accept", "accept-language"}
_TOKEN_PATH = re.compile(r"/(s|u)/[^/?#\s]+")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+\d[\d ().-]{6,}\d")
_SECRET_KEYS = re.compile(r"(pass|secret|token|key|auth|cookie|session|csrf|signature|email|phone|recipient)", re.I)


def _scrub_text(value: str) -> str:
    value = _TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/{FILTERED}", value)
    value = _EMAIL.sub(FILTERED, value)
    return _PHONE.sub(FILTERED, value)


def _scrub(value, key: str = ""):
    if key and _SECRET_KEYS.search(key):
        return FILTERED
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def event_scrub(event: dict, hint: dict | None = None) -> dict:
    """Sentry's `before_send`: the event without personal data (also used for breadcrumbs' messages)."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
        request.pop("query_string", None)
        headers = request.get("headers") or {}
        request["headers"] = {k: v for k, v in headers.items() if k.lower() in _KEEP_HEADERS}
    event.pop("user", None)
    return _scrub(event)


def sentry_init(dsn: str, *, environment: str, release: str | None, traces_sample_rate: float) -> None:
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        # What `send_default_pii=False` means, spelled out in the SDK's newer option (which supersedes it):
        # no user identity, cookies, bodies, query strings or local variables; headers only from a short list.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "http_headers": {"request": {"mode": "allowlist", "terms": sorted(_KEEP_HEADERS)}},
            "database_query_data": False,
            "stack_frame_variables": False,
        },
        before_send=event_scrub,
        before_breadcrumb=lambda crumb, hint: _scrub(crumb),
        traces_sample_rate=traces_sample_rate,
        max_request_body_size="never",
    )
