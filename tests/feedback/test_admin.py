import pytest

from feedback.admin import TeamAdminForm

pytestmark = pytest.mark.django_db


def test_team_admin_form_refuses_bad_business_hours():
    form = TeamAdminForm(
        data={
            "name": "Care",
            "sla_hours": 8,
            "time_zone": "Mars/Olympus",
            "working_days": "0,9",
            "opens_at": "17:00",
            "closes_at": "09:00",
            "holidays": '["2026-13-01"]',
        }
    )

    assert form.errors == {
        "time_zone": ["Enter an IANA time zone, e.g. Europe/Paris."],
        "working_days": ["List weekdays as numbers 0 (Monday) to 6, e.g. 0,1,2,3,4."],
        "holidays": ['List days as ["YYYY-MM-DD", ...].'],
        "closes_at": ["Closing time must be after opening time."],
    }


def test_team_admin_form_reads_a_slack_url_without_scheme_as_https():
    form = TeamAdminForm(
        data={
            "name": "Care",
            "sla_hours": 8,
            "time_zone": "Europe/Paris",
            "working_days": "0,1,2,3,4",
            "opens_at": "09:00",
            "closes_at": "17:00",
            "holidays": "[]",
            "slack_webhook_url": "hooks.slack.com/services/T000/B000/XXXX",
        }
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data["slack_webhook_url"] == "https://hooks.slack.com/services/T000/B000/XXXX"
