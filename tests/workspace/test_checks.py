"""workspace/checks.py: a wrong retention setting stops the start with its reason."""

import pytest

from workspace.checks import retention_settings_check


def _ids_and_messages(errors) -> list[tuple[str, str]]:
    return [(error.id, error.msg) for error in errors]


def test_the_defaults_pass():
    assert retention_settings_check() == []


@pytest.mark.parametrize("value", ["forever", "FOREVER", " 30 ", "3650"])
def test_whole_days_or_forever_pass(settings, value):
    settings.RETENTION_COMMENTS_DAYS = value
    assert retention_settings_check() == []


@pytest.mark.parametrize("value", ["abc", "", "30.5", "-1", "30d", "never"])
def test_anything_else_is_refused_with_its_setting(settings, value):
    settings.RETENTION_COMMENTS_DAYS = value

    [error] = retention_settings_check()

    assert (error.id, error.msg) == (
        "retention.E001",
        f"RETENTION_COMMENTS_DAYS={value!r}: use a whole number of days or 'forever'.",
    )
    assert error.hint == (
        "It sets how long comments, free-text answers, comments quoted by theme candidates are kept"
        " (docs/retention.md)."
    )


def test_a_retention_below_the_kind_s_minimum_is_refused_with_why(settings):
    settings.RETENTION_PROVIDER_EVENTS_DAYS = "2"
    settings.RETENTION_INBOUND_DAYS = "0"

    errors = retention_settings_check()

    assert _ids_and_messages(errors) == [
        ("retention.E002", "RETENTION_PROVIDER_EVENTS_DAYS=2: provider events must be kept at least 3 day(s)."),
        ("retention.E002", "RETENTION_INBOUND_DAYS=0: inbound SMS must be kept at least 1 day(s)."),
    ]
    assert errors[0].hint.startswith("SendGrid retries an event for up to 72 hours")


def test_the_batch_size_budget_and_interval_are_checked(settings):
    settings.RETENTION_PURGE_BATCH_SIZE = 10_001
    settings.RETENTION_PURGE_MAX_SECONDS = 240.0
    settings.RETENTION_PURGE_INTERVAL_SECONDS = 0.0

    assert _ids_and_messages(retention_settings_check()) == [
        ("retention.E003", "RETENTION_PURGE_BATCH_SIZE=10001: use 1 to 10000 rows."),
        (
            "retention.E004",
            "RETENTION_PURGE_MAX_SECONDS=240: use more than 0 and less than the task's soft time limit (240 s).",
        ),
        ("retention.E005", "RETENTION_PURGE_INTERVAL_SECONDS=0: use a positive number."),
    ]


@pytest.mark.parametrize(("target", "duty"), [(0.0, 0.0), (-1.0, 1.5)])
def test_the_batch_time_target_and_the_duty_are_checked(settings, target, duty):
    settings.RETENTION_PURGE_BATCH_SECONDS = target
    settings.RETENTION_PURGE_DUTY = duty

    assert _ids_and_messages(retention_settings_check()) == [
        ("retention.E006", f"RETENTION_PURGE_BATCH_SECONDS={target:g}: use a positive number of seconds."),
        ("retention.E007", f"RETENTION_PURGE_DUTY={duty:g}: use more than 0 and at most 1."),
    ]


def test_manage_py_check_runs_them(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.RETENTION_EVENTS_DAYS = "a year"
    with pytest.raises(SystemCheckError, match=r"retention\.E001\) RETENTION_EVENTS_DAYS='a year'"):
        call_command("check")
