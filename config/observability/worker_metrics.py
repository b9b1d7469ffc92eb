"""A Celery worker's own `/metrics` (task latency and failures of its pool processes), behind `METRICS_TOKEN`.

The web's `/metrics` shows the web processes and the database; workers usually run on other hosts
or containers, so each serves its own on `WORKER_METRICS_PORT` for Prometheus to scrape.
"""

import hmac
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

from django.conf import settings

from config.observability.metrics import exposition


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # scrapes are not news
        pass


def metrics_app(environ, start_response):
    token = settings.METRICS_TOKEN
    given = environ.get("HTTP_AUTHORIZATION", "")
    if environ.get("PATH_INFO") != "/metrics" or not token:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        start_response("401 Unauthorized", [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")])
        return [b"metrics need the METRICS_TOKEN as a bearer token\n"]
    body = exposition()
    start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")])
    return [body]


def worker_metrics_server_start(host: str, port: int):
    server = make_server(host, port, metrics_app, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True, name="worker-metrics").start()
    return server
