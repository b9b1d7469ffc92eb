import hmac

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
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
