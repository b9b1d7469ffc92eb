"""Log lines carry the id of the request (or task) that wrote them; `LOG_FORMAT=json` writes one JSON object a line."""

import contextvars
import json
import logging
import re
import time
import uuid

# The request id of the request or Celery task this thread is working on ("-" outside both).
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("closeloop_request_id", default="-")


def request_id_new() -> str:
    return uuid.uuid4().hex


# Survey and unsubscribe links carry their token in the path; Django logs paths ("Not Found: /s/…/"),
# and so do access logs (gunicorn's: config/observability/gunicorn_logger.py).
_TOKEN_PATH = re.compile(r"/(s|u)/[^/?#\s\"']+")


_RESET_PATH = re.compile(r"/accounts/reset/[^/?#\s\"']+/[^/?#\s\"']+")


def path_scrub(value):
    if not isinstance(value, str):
        return value
    # Password-reset links (console/accounts.py) sign a user in: their token is kept out as well.
    return _RESET_PATH.sub("/accounts/reset/<uid>/<token>", _TOKEN_PATH.sub(r"/\1/<token>", value))


class RequestIdFilter(logging.Filter):
    """Puts `record.request_id` on every record and keeps tokens of logged paths out (installed on the handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        # Every logger, not only Django's: a library or our own code may log a link or a request line.
        if isinstance(record.args, tuple):
            record.args = tuple(path_scrub(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: path_scrub(value) for key, value in record.args.items()}
        record.msg = path_scrub(record.msg)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key in ("method", "route", "status", "duration_ms", "task"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(*, log_format: str, level: str, quiet_task_lines: bool) -> dict:
    """Django's LOGGING for `LOG_FORMAT` (`plain` or `json`) and `LOG_LEVEL`."""
    formatters = {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "config.observability.logging.JsonFormatter"},
    }
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "config.observability.logging.RequestIdFilter"}},
        "formatters": {"console": formatters["json" if log_format == "json" else "plain"]},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "console", "filters": ["request_id"]},
        },
        "root": {"handlers": ["console"], "level": level},
        # The provider SDKs log request URLs, bodies and headers (addresses, numbers, keys): never let them through.
        "loggers": {
            "twilio.http_client": {"level": "WARNING"},
            "python_http_client": {"level": "WARNING"},
        },
    }
    if quiet_task_lines:
        # In-process, each beat tick (every few seconds) would log a "Task … succeeded" line; failures still show.
        config["loggers"]["celery.app.trace"] = {"level": "WARNING"}
    return config
