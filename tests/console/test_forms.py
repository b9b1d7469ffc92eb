import pytest

from console.forms import SurveyForm, TeamForm
from console.selectors import SlackChoices


def test_survey_form_thank_you_link_without_a_scheme_is_taken_as_https():
    form = SurveyForm(
        data={
            "name": "After delivery",
            "kind": "csat",
            "default_locale": "en",
            "thank_you_link_url": "shop.example/thanks",
        }
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data["thank_you_link_url"] == "https://shop.example/thanks"


@pytest.mark.django_db
def test_team_form_slack_webhook_without_a_scheme_is_taken_as_https():
    form = TeamForm(
        data={
            "name": "Support",
            "sla_hours": 24,
            "time_zone": "Europe/Paris",
            "working_days": "0,1,2,3,4",
            "opens_at": "09:00",
            "closes_at": "18:00",
            "assignment": "queue",
            "slack_webhook_url": "hooks.slack.example/services/T0/B0/x",
        },
        slack=SlackChoices(uses_bot=False, channels=[]),
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data["slack_webhook_url"] == "https://hooks.slack.example/services/T0/B0/x"
