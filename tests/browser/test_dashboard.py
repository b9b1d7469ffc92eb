"""The manager dashboard in a real browser: log in, pick a period and a breakdown, read the figures,
download a CSV; an agent sees their team's slice; no serious accessibility violation."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import FollowUpEntry
from insights.rollups import rollup_rebuild
from tests.browser.conftest import AXE, AXE_TAGS
from tests.factories import (
    ContactFactory,
    EventFactory,
    FollowUpFactory,
    InvitationFactory,
    ResponseFactory,
    RootCauseFactory,
    RoutingRuleFactory,
    SurveyFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk_page(chromium, live_server, settings):
    """A laptop-sized page: the dashboard is read at a desk."""
    settings.DASHBOARD_BREAKDOWN_PROPERTIES = ["event:store", "contact:plan"]
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, base_url=live_server.url, accept_downloads=True
    )
    page = context.new_page()
    yield page
    context.close()


def _answer(survey, score: int, store: str, comment: str = "", days_ago: int = 1):
    contact = ContactFactory(properties={"plan": "pro"})
    event = EventFactory(contact=contact, type="delivery", properties={"store": store})
    invitation = InvitationFactory(survey=survey, contact=contact, event=event)
    confirmed_at = timezone.now() - timedelta(days=days_ago)
    return ResponseFactory(invitation=invitation, score=score, confirmed_at=confirmed_at, comment=comment)


@pytest.fixture
def seeded(team, other_team, agent):
    """Care handles the Delivery survey, Billing the Invoices survey. In the last 7 days: Delivery
    10, 9, 3, 2 and Invoices 0, 0; the three unhappy answers of Delivery and Invoices' first have
    cases, one resolved as recovered after a note. One older answer falls outside the period."""
    delivery, invoices = SurveyFactory(kind="nps", name="Delivery"), SurveyFactory(kind="nps", name="Invoices")
    RoutingRuleFactory(team=team, survey=delivery)
    RoutingRuleFactory(team=other_team, survey=invoices)
    _answer(delivery, 10, "Lyon", comment="Quick and kind")
    _answer(delivery, 9, "Lyon")
    unhappy = _answer(delivery, 3, "Nice", comment="Parcel arrived crushed")
    _answer(delivery, 2, "Nice")
    invoice_case = FollowUpFactory(response=_answer(invoices, 0, "Lyon", comment="Charged twice"), team=other_team)
    _answer(invoices, 0, "Lyon")
    _answer(delivery, 0, "Lyon", days_ago=20)
    recovered = FollowUpFactory(response=unhappy, team=team, assignee=agent)
    FollowUpEntry.objects.create(follow_up=recovered, kind="note", author=agent, body="Called, sent a new one")
    recovered.status, recovered.outcome, recovered.resolved_at = "resolved", "recovered", timezone.now()
    recovered.root_cause = RootCauseFactory(name="Damaged in transit")
    recovered.save()
    FollowUpFactory(response=unhappy.survey.responses.get(score=2), team=team)
    rollup_rebuild()
    return {"invoice_case": invoice_case}


def _log_in(page, email: str) -> None:
    page.goto("/accounts/login/?next=/dashboard/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")


def _figure(page, title: str) -> str:
    return page.locator(".figure", has_text=title).locator("strong").inner_text()


def test_browser_manager_reads_the_period_breaks_it_down_and_exports(desk_page, manager, seeded):
    page = desk_page
    _log_in(page, manager.email)

    page.get_by_label("Period").select_option("7")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**period=7**")
    assert _figure(page, "Responses") == "6"
    nps = page.locator(".figure", has_text="NPS")
    assert nps.locator("strong").inner_text().startswith("-33.3 ±")
    assert "2 promoters · 0 passives · 4 detractors (n=6, 95% margin)" in nps.inner_text()
    assert _figure(page, "Unhappy answers") == "4"
    assert _figure(page, "With a follow-up") == "75%"
    assert _figure(page, "Contacted") == "33.3%"
    assert _figure(page, "Resolved within SLA") == "100%"
    assert _figure(page, "Recovered") == "100%"
    assert page.locator("table.root-causes").inner_text().count("Damaged in transit\t1") == 1

    page.get_by_label("By").select_option("event:store")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**by=event%3Astore**")
    stores = page.get_by_role("table", name="By event:store")
    rows = [row.inner_text().split("\t")[:2] for row in stores.locator("tr").all()[1:]]
    assert rows == [["Lyon", "4 (small)"], ["Nice", "2 (small)"]]

    with page.expect_download() as download:
        page.get_by_role("link", name="responses (CSV)").click()
    assert download.value.suggested_filename.startswith("responses-")
    lines = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert lines[0][:5] == ["id", "confirmed_at", "survey", "kind", "score"]
    assert sorted(int(line[4]) for line in lines[1:]) == [0, 0, 2, 3, 9, 10]


def test_browser_agent_sees_only_their_teams_slice(desk_page, agent, seeded):
    page = desk_page
    _log_in(page, agent.email)
    page.goto("/dashboard/?period=7")

    assert page.get_by_role("heading", level=1).inner_text() == "Dashboard · Care"
    assert _figure(page, "Responses") == "4"
    assert _figure(page, "Unhappy answers") == "2"
    assert "2 cases opened" in page.locator(".figure", has_text="With a follow-up").inner_text()
    comments = page.locator("table.comments").inner_text()
    assert "Parcel arrived crushed" in comments and "Charged twice" not in comments

    with page.expect_download() as download:
        page.get_by_role("link", name="follow-ups (CSV)").click()
    lines = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert sorted(line[3] for line in lines[1:]) == ["Care", "Care"]
    assert str(seeded["invoice_case"].pk) not in [line[0] for line in lines[1:]]


def test_browser_dashboard_has_no_serious_axe_violations(desk_page, manager, seeded):
    page = desk_page
    _log_in(page, manager.email)
    page.goto("/dashboard/?period=7&by=event%3Astore")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    serious = [
        (violation["id"], [node["html"] for node in violation["nodes"]])
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert serious == []
