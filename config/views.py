import hmac

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET

from config.celery_app import app


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means the database is unusable
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _broker_status() -> str:
    if not settings.BROKER_CONFIGURED:
        return "not configured"
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # kombu raises transport-specific errors
        return f"error: {exc.__class__.__name__}"
    return "ok"


@require_GET
def healthz(request):
    checks = {"database": _database_status(), "broker": _broker_status()}
    healthy = all(value in ("ok", "not configured") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


@require_GET
def readyz(request):
    """Readiness: this process can serve, and the product around it works (config/observability/readiness.py)."""
    from config.observability.readiness import readiness

    checks = readiness(_database_status, _broker_status)
    ready = all(value in ("ok", "not configured", "in-process") for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "error", **checks}, status=200 if ready else 503)


@require_GET
def metrics(request):
    """Prometheus text format, for a scraper holding `METRICS_TOKEN` (404 while it is unset)."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("metrics are off: set METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("metrics need the METRICS_TOKEN as a bearer token\n", status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    from config.observability.metrics import exposition

    return HttpResponse(exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")


# --- error pages: JSON on the APIs, a short page elsewhere ------------------------------------------

API_PREFIXES = ("/api/", "/v1/")
# Marked, not translated, here: the APIs answer in English whoever calls; error.html translates the page.
ERROR_TEXT = {
    400: (
        gettext_noop("Bad request"),
        gettext_noop("The request could not be read. Check the address or the form and try again."),
    ),
    403: (gettext_noop("Not allowed"), gettext_noop("You are not allowed to do this.")),
    404: (gettext_noop("Not found"), gettext_noop("There is nothing at this address.")),
    413: (gettext_noop("Too large"), gettext_noop("The request is larger than this site accepts.")),
    500: (gettext_noop("Something went wrong"), gettext_noop("The error was logged. Please try again in a moment.")),
}


def _error(request, status: int):
    title, text = ERROR_TEXT[status]
    if request.path.startswith(API_PREFIXES):
        body = {"message": title + ".", "errors": {}}
        if request.path.startswith("/v1/"):
            body = {"status": status, **body}
        return JsonResponse(body, status=status)
    return render(request, "error.html", {"title": title, "text": text}, status=status)


def bad_request(request, exception=None):
    return _error(request, 413 if isinstance(exception, RequestDataTooBig) else 400)


def permission_denied(request, exception=None):
    return _error(request, 403)


def page_not_found(request, exception=None):
    return _error(request, 404)


def server_error(request):
    return _error(request, 500)
