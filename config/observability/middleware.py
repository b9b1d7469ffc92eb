"""The first middleware: gives each request an id (logged on every line, echoed as `X-Request-ID`), times it by
route for `/metrics`, and writes one access line naming the route, never the path (paths carry survey tokens)."""

import logging
import re
import time

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver

from config.observability.logging import request_id_new, request_id_var

logger = logging.getLogger("closeloop.request")

# A proxy's request id is kept when it looks like one; anything else is replaced, so that a client
# cannot write arbitrary text into the logs.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def route_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return "/" + match.route
    if request.path.startswith(settings.STATIC_URL):
        return settings.STATIC_URL
    return "<unmatched>"


class RequestObservabilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        from config.observability import metrics

        self.metrics = metrics

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else request_id_new()
        # Reset when the response is closed (request_finished, below): Django logs the response's status
        # ("Not Found: …") after the middleware has returned, and that line carries the id too.
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        duration = time.perf_counter() - started
        route = route_of(request)
        self.metrics.request_observe(request.method, route, response.status_code, duration)
        if route != "/metrics":
            logger.info(
                "%s %s %s %.1fms",
                request.method,
                route,
                response.status_code,
                duration * 1000,
                extra={
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(duration * 1000, 1),
                },
            )
        return response


@receiver(request_finished)
def request_id_forget(sender, **kwargs) -> None:
    request_id_var.set("-")
