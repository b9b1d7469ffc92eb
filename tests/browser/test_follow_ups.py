"""An agent works a detractor's case to the end in a real browser: inbox, note, reply, resolve, reassign."""

import pytest

from feedback.models import FixCheck, FollowUp, RoutingRule
from notifications.models import Message
from tests.factories import (
    ContactFactory,
    EventFactory,
    FollowUpFactory,
    InvitationFactory,
    ResponseFactory,
    RootCauseFactory,
    RoutingRuleFactory,
    SurveyFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def case():
    """A detractor's case in the Care team, assigned to its agent, whose rule asks "did we fix it?"."""
    team = TeamFactory(name="Care")
    rule = RoutingRuleFactory(
        team=team,
        fix_check_survey=SurveyFactory(name="Did we fix it?", kind="thumbs"),
        assignment=RoutingRule.Assignment.QUEUE,
    )
    agent = UserFactory(email="agent@closeloop.test", team=team)
    UserFactory(email="colleague@closeloop.test", team=team)
    contact = ContactFactory(name="Ana Lima", email="ana@example.com")
    event = EventFactory(contact=contact, type="purchase", external_id="order-42", properties={"store": "Lyon"})
    response = ResponseFactory(
        invitation=InvitationFactory(contact=contact, event=event), score=2, comment="The parcel came late"
    )
    RootCauseFactory(name="Late delivery")
    return FollowUpFactory(team=team, rule=rule, assignee=agent, response=response)


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/?next=/follow-ups/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/follow-ups/")


def test_browser_agent_works_a_detractor_case_to_resolution(browser_page, case):
    page = browser_page
    log_in(page, "agent@closeloop.test")

    page.get_by_role("link", name="Ana Lima").click()
    page.wait_for_url(f"**/follow-ups/{case.pk}/")
    assert "The parcel came late" in page.locator("blockquote").inner_text()

    page.get_by_label("Internal note").fill("Carrier confirms a two-day delay.")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_load_state()
    assert page.locator("#case-status").inner_text() == "In progress"
    assert "Carrier confirms a two-day delay." in page.get_by_role("list").filter(has_text="Note").inner_text()

    page.get_by_label("Reply", exact=True).fill("Sorry Ana, a refund of the shipping is on its way.")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_load_state()
    assert page.locator("#case-status").inner_text() == "Waiting on customer"

    page.get_by_label("Root cause").select_option(label="Late delivery")
    page.get_by_label("Outcome").select_option(label="Recovered")
    page.get_by_label("Resolution note").fill("Refunded the shipping.")
    page.get_by_role("button", name="Resolve").click()
    page.wait_for_load_state()

    assert page.locator("#case-status").inner_text() == "Resolved"
    assert page.get_by_text("Outcome: Recovered").is_visible()
    assert page.get_by_role("button", name="Reopen").is_visible()
    assert page.get_by_text("Did we fix it? by email, for the resolution of").is_visible()
    case.refresh_from_db()
    assert (case.status, case.outcome, case.root_cause.name) == (FollowUp.Status.RESOLVED, "recovered", "Late delivery")
    assert list(Message.objects.filter(recipient="ana@example.com").values_list("body_text", flat=True)) == [
        "Sorry Ana, a refund of the shipping is on its way."
    ]
    assert FixCheck.objects.get().invitation.contact.email == "ana@example.com"


def test_browser_agent_reassigns_a_case_to_a_colleague(browser_page, case):
    page = browser_page
    log_in(page, "agent@closeloop.test")
    page.goto(f"/follow-ups/{case.pk}/")

    page.get_by_label("Assign to").select_option(label="colleague@closeloop.test")
    page.get_by_role("button", name="Reassign").click()
    page.wait_for_load_state()

    assert "assigned to colleague@closeloop.test" in page.locator("#case-assignment").inner_text()
    case.refresh_from_db()
    assert case.assignee.email == "colleague@closeloop.test"


def test_browser_case_page_has_no_accessibility_violations(browser_page, case, axe_violations):
    log_in(browser_page, "agent@closeloop.test")
    browser_page.goto(f"/follow-ups/{case.pk}/")

    assert axe_violations(browser_page) == []
