"""A manager sets a team's assignment strategy, marks an agent away and picks the team's Slack channel, at 360 px,
with no axe violations."""

import pytest

from feedback.models import Team, User
from tests.browser.console_pages import assert_accessible_at_its_width, log_in
from tests.factories import ManagerFactory, TeamFactory, UserFactory
from tests.fakes.slack import TOKEN as SLACK_TOKEN
from tests.fakes.slack import FakeSlack, slack_channel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_browser_team_assignment_strategy_and_an_agent_away_at_360_px(wide_page, axe_violations):  # noqa: F811
    page = wide_page
    ManagerFactory(email="lead@closeloop.test")
    team = TeamFactory(name="Care")
    agent = UserFactory(email="marie@closeloop.test", team=team)
    log_in(page, "lead@closeloop.test", "password", "/settings/teams/")
    assert_accessible_at_its_width(page, axe_violations)
    page.get_by_role("link", name="Care").click()
    page.get_by_label("New cases go to").select_option(label="Round robin (each agent in turn)")
    assert_accessible_at_its_width(page, axe_violations)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/settings/teams/")
    assert page.get_by_role("cell", name="Round robin (each agent in turn)").is_visible()
    assert Team.objects.get(pk=team.pk).assignment == "round_robin"

    page.goto(f"/settings/people/{agent.pk}/")
    page.get_by_label("Away").check()
    assert_accessible_at_its_width(page, axe_violations)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/settings/people/")
    assert "away: gets no new case" in page.get_by_role("row", name="marie@closeloop.test").inner_text()
    assert_accessible_at_its_width(page, axe_violations)
    assert User.objects.get(pk=agent.pk).is_away is True


def test_browser_team_picks_a_slack_channel_at_360_px(wide_page, axe_violations, settings):  # noqa: F811
    fake = FakeSlack([slack_channel(1, "care-escalations"), slack_channel(2, "billing", private=True)]).start()
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.SLACK_API_BASE_URL = fake.api_url
    settings.SLACK_BOT_TOKEN = SLACK_TOKEN
    page = wide_page
    ManagerFactory(email="lead@closeloop.test")
    team = TeamFactory(name="Care")
    try:
        log_in(page, "lead@closeloop.test", "password", f"/settings/teams/{team.pk}/")
        page.get_by_label("Slack channel").select_option(label="#care-escalations")
        assert_accessible_at_its_width(page, axe_violations)
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/settings/teams/")
        assert page.get_by_role("cell", name="#care-escalations").is_visible()
        assert_accessible_at_its_width(page, axe_violations)
    finally:
        fake.stop()
    assert Team.objects.get(pk=team.pk).slack_channel_name == "care-escalations"
