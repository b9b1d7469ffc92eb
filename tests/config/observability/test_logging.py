import json
import logging

import pytest

from config.observability.logging import JsonFormatter, RequestIdFilter, logging_config, request_id_var


def _record(message: str, **extra) -> logging.LogRecord:
    record = logging.LogRecord("closeloop.test", logging.WARNING, __file__, 1, message, (), None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_lines_carry_the_request_id_of_the_current_request():
    token = request_id_var.set("req-1234abcd")
    try:
        record = _record("send failed")
        RequestIdFilter().filter(record)
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)

    entry = json.loads(line)
    assert entry["message"] == "send failed"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "closeloop.test"
    assert entry["request_id"] == "req-1234abcd"
    assert entry["time"].endswith("Z")
    assert "\n" not in line


def test_outside_a_request_the_id_is_a_dash():
    record = _record("tick")
    RequestIdFilter().filter(record)

    assert record.request_id == "-"


def test_an_exception_stays_on_one_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())

    line = JsonFormatter().format(record)

    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exception"]


@pytest.mark.parametrize(("log_format", "formatter"), [("plain", "format"), ("json", "()")])
def test_log_format_picks_the_console_formatter(log_format, formatter):
    config = logging_config(log_format=log_format, level="INFO", quiet_task_lines=False)

    assert formatter in config["formatters"]["console"]
    assert config["handlers"]["console"]["filters"] == ["request_id"]
    assert "celery.app.trace" not in config["loggers"]


def test_requests_get_an_id_echoed_in_the_response_and_logged_with_the_route(client, db, caplog):
    caplog.set_level(logging.INFO, logger="closeloop.request")

    response = client.get("/healthz", HTTP_X_REQUEST_ID="proxy-id-0001")
    generated = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces")

    assert response["X-Request-ID"] == "proxy-id-0001"
    assert len(generated["X-Request-ID"]) == 32 and generated["X-Request-ID"] != "bad id with spaces"
    access = [r for r in caplog.records if r.name == "closeloop.request"]
    assert [(r.method, r.route, r.status) for r in access] == [("GET", "/healthz", 200), ("GET", "/healthz", 200)]
    assert [r.request_id for r in access] == ["proxy-id-0001", generated["X-Request-ID"]]


def test_no_log_line_of_a_request_names_its_survey_token(client, db, caplog):
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestIdFilter())  # as on the console handler

    client.get("/s/secret-token-value/")

    assert "secret-token-value" not in caplog.text
    assert [r.route for r in caplog.records if r.name == "closeloop.request"] == ["/s/<str:token>/"]
    assert "Not Found: /s/<token>/" in caplog.text
