"""An agent's day in a real browser: the new case in the default view, search by order number, a reply by
email (to a fake SendGrid on loopback) and the customer's answer through the inbound webhook, a reply by
SMS (fake Twilio) and the customer's SMS back without the score changing, resolution; plus phone widths
and axe-core on the inbox, the case page and the dashboard."""

import base64
import json
import urllib.request
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import override_settings
from django.utils import timezone
from twilio.request_validator import RequestValidator

from feedback.models import FollowUp, RoutingRule
from surveys.models import Response
from tests.factories import (
    ContactFactory,
    EventFactory,
    FollowUpFactory,
    InvitationFactory,
    ManagerFactory,
    ResponseFactory,
    RootCauseFactory,
    RoutingRuleFactory,
    SurveyFactory,
    TeamFactory,
    UserFactory,
)
from tests.fakes.inbound_parse import inbound_parse_body, inbound_parse_form
from tests.fakes.providers import FakeProviders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TWILIO_TOKEN = "twilio-test-token"
INBOUND_AUTH = "parse:inbound-test-password"
PHONE = "+33612345678"


@pytest.fixture
def providers(live_server):
    """The real SDKs talk to a fake SendGrid and fake Twilio on loopback; Inbound Parse posts carry Basic auth."""
    fake = FakeProviders().start()
    with override_settings(
        SITE_URL=live_server.url,
        SENDGRID_API_KEY="SG.test-key-not-secret",
        SENDGRID_API_BASE_URL=fake.url,
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        TWILIO_MESSAGING_SERVICE_SID="",
        TWILIO_FROM_NUMBER="+15005550006",
        TWILIO_API_BASE_URL=fake.url,
        DEFAULT_FROM_EMAIL="Acme <surveys@acme.test>",
        INBOUND_EMAIL_DOMAIN="reply.acme.test",
        SENDGRID_INBOUND_AUTH=INBOUND_AUTH,
        SENDGRID_INBOUND_PUBLIC_KEY="",
        NOTIFICATIONS_TRANSPORTS={
            "email": "notifications.transports.sendgrid.SendGridTransport",
            "sms": "notifications.transports.twilio.TwilioTransport",
        },
    ):
        yield fake
    fake.stop()


@pytest.fixture
def morning():
    """Care's queue this morning: Ana's new case (order A-1042, by SMS, unassigned), two colleagues' cases,
    one of Marie's overdue; another team's case she must not see."""
    care = TeamFactory(name="Care", reply_from_email="care@acme.test", time_zone="Europe/Paris")
    marie = UserFactory(email="marie@acme.test", first_name="Marie", last_name="Dupont", team=care)
    colleague = UserFactory(email="paul@acme.test", team=care)
    RoutingRuleFactory(team=care, assignment=RoutingRule.Assignment.QUEUE)
    RootCauseFactory(name="Damaged in transit")
    survey = SurveyFactory(name="Delivery", product_name="Acme")
    now = timezone.now()

    def case(name, score, comment, *, order, assignee=None, due_in=timedelta(hours=5), team=care, **contact):
        person = ContactFactory(name=name, **contact)
        event = EventFactory(
            contact=person, type="delivery", external_id=f"evt-{order}", properties={"order_id": order}
        )
        channel = "sms" if contact.get("phone") else "email"
        invitation = InvitationFactory(contact=person, survey=survey, event=event, channel=channel)
        response = ResponseFactory(invitation=invitation, score=score, comment=comment)
        return FollowUpFactory(team=team, assignee=assignee, response=response, due_at=now + due_in)

    ana = case("Ana Lima", 2, "The parcel arrived broken.\nSecond line.", order="A-1042", email="ana@example.com",
               phone=PHONE, due_in=timedelta(hours=3))  # fmt: skip
    case("Bruno Roy", 4, "Late again", order="A-1043", assignee=colleague)
    case("Chloé Petit", 6, "", order="A-1044", assignee=marie, due_in=-timedelta(hours=2))
    case("Dan Other", 1, "Wrong size", order="B-7", team=TeamFactory(name="Billing"))
    return {"ana": ana, "marie": marie}


def log_in(page, email: str, next_url: str = "/follow-ups/") -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{next_url}")


def post_inbound_email(base_url: str, form: dict) -> int:
    content_type, body = inbound_parse_body(form)
    request = urllib.request.Request(f"{base_url}/webhooks/sendgrid/inbound/", data=body, method="POST")
    request.add_header("Content-Type", content_type)
    request.add_header("Authorization", "Basic " + base64.b64encode(INBOUND_AUTH.encode()).decode())
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status


def post_customer_sms(base_url: str, body: str, sid: str) -> int:
    path = "/webhooks/twilio/sms/"
    params = {"MessageSid": sid, "From": PHONE, "To": "+15005550006", "Body": body}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(base_url + path, params)
    request = urllib.request.Request(base_url + path, data=urlencode(params).encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    request.add_header("X-Twilio-Signature", signature)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status


def test_browser_an_agents_day_from_the_queue_to_the_resolution(browser_page, live_server, providers, morning):
    page, ana = browser_page, morning["ana"]
    log_in(page, "marie@acme.test")

    # The default view is her work: her overdue case and the team's new one, not a colleague's.
    current = page.locator("nav.views a[aria-current=page]")
    assert current.inner_text().split() == ["My", "work", "2"]
    rows = page.locator("li.case")
    assert rows.count() == 2
    ana_row = rows.filter(has_text="Ana Lima")
    assert "The parcel arrived broken." in ana_row.inner_text()
    assert "Second line." not in ana_row.inner_text()
    assert "in 2 h" in ana_row.locator("time.due").inner_text() or "in 3 h" in ana_row.locator("time.due").inner_text()
    assert "overdue 2 h" in rows.filter(has_text="Chloé Petit").locator("time.due.overdue").inner_text()

    # Search by order number, across the team.
    page.get_by_label("Search", exact=True).fill("A-1042")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**q=A-1042**")
    assert page.locator("li.case").count() == 1
    page.get_by_role("link", name="Ana Lima").click()
    page.wait_for_url(f"**/follow-ups/{ana.pk}/")

    answer = page.locator(".item-answer")
    assert "How likely are you to recommend Acme" in answer.inner_text()
    assert "What is the main reason for your score?" in answer.inner_text()

    # Reply by email: the agent's name on the team's address, the case's own Reply-To.
    page.get_by_role("button", name="Claim").click()
    page.wait_for_load_state()
    page.get_by_label("Email to ana@example.com").check()
    page.get_by_label("Reply", exact=True).fill("Sorry Ana, a new parcel leaves today.")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_load_state()
    [sent] = [request.json() for request in providers.sendgrid()]
    assert sent["from"] == {"email": "care@acme.test", "name": "Marie Dupont (Care)"}
    reply_to = sent["reply_to"]["email"]
    assert reply_to.startswith("reply+") and reply_to.endswith("@reply.acme.test")
    assert sent["content"][0]["value"] == "Sorry Ana, a new parcel leaves today."

    # Ana answers by email; SendGrid Inbound Parse posts it.
    text = "Thank you! Please send it to my office.\n\nOn Tue, Marie Dupont (Care) <care@acme.test> wrote:\n> Sorry Ana"
    form = inbound_parse_form(to=reply_to, sender="ana@example.com", text=text, message_id="<ana-1@example.com>")
    assert post_inbound_email(live_server.url, form) == 204
    page.reload()
    incoming = page.locator(".item-incoming")
    assert incoming.count() == 1
    assert "Thank you! Please send it to my office." in incoming.inner_text()
    assert "Sorry Ana" not in incoming.inner_text()
    assert "by email" in incoming.inner_text()

    # Reply by SMS, and Ana's SMS comes back to the case without touching her score.
    page.get_by_label(f"SMS to {PHONE}").check()
    page.get_by_label("Reply", exact=True).fill("Done. Anything else?")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_load_state()
    assert [request.form()["Body"] for request in providers.twilio()] == ["Done. Anything else?"]
    assert post_customer_sms(live_server.url, "3", "SM-ana-1") == 200
    page.reload()
    assert page.locator(".item-incoming").nth(1).inner_text().endswith("3")
    assert Response.objects.get(pk=ana.response_id).score == 2

    # Resolve: root cause and outcome, neither chosen for her.
    page.get_by_label("Root cause").select_option(label="Damaged in transit")
    assert page.get_by_label("Outcome").input_value() == ""
    page.get_by_label("Outcome").select_option(label="Recovered")
    page.get_by_role("button", name="Resolve", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#case-status").inner_text() == "Resolved"
    ana.refresh_from_db()
    assert (ana.status, ana.root_cause.name, ana.outcome) == (
        FollowUp.Status.RESOLVED,
        "Damaged in transit",
        "recovered",
    )


def test_browser_inbox_keyboard_moves_between_cases_and_is_ignored_in_fields(browser_page, morning):
    page = browser_page
    log_in(page, "marie@acme.test")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.className") == "case-link"
    first = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.textContent") != first
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.textContent") == first
    page.get_by_label("Search", exact=True).focus()
    page.keyboard.press("j")
    assert page.get_by_label("Search", exact=True).input_value() == "j"


def test_browser_filters_default_to_any_and_an_empty_result_says_so(browser_page, morning):
    page = browser_page
    log_in(page, "marie@acme.test")
    page.get_by_text("Filters", exact=True).click()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    assert page.locator("li.case").count() == 2
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    assert "No case matches these filters." in page.locator(".empty").inner_text()
    assert page.get_by_role("link", name="Clear filters").first.is_visible()


@pytest.mark.parametrize("width", [360])
def test_browser_staff_pages_fit_a_phone_without_horizontal_scrolling(chromium, live_server, morning, width):
    ManagerFactory(email="boss@acme.test")
    context = chromium.new_context(viewport={"width": width, "height": 740}, base_url=live_server.url)
    page = context.new_page()
    try:
        log_in(page, "marie@acme.test")
        widths = {"inbox": page.evaluate("document.documentElement.scrollWidth")}
        page.goto(f"/follow-ups/{morning['ana'].pk}/")
        widths["case"] = page.evaluate("document.documentElement.scrollWidth")
        page.goto("/dashboard/")
        widths["dashboard"] = page.evaluate("document.documentElement.scrollWidth")
    finally:
        context.close()
    assert widths == {"inbox": width, "case": width, "dashboard": width}


def test_browser_inbox_case_and_dashboard_have_no_accessibility_violations(browser_page, morning, axe_violations):
    page = browser_page
    log_in(page, "marie@acme.test")
    found = {"inbox": axe_violations(page)}
    page.goto(f"/follow-ups/{morning['ana'].pk}/")
    found["case"] = axe_violations(page)
    page.goto("/dashboard/")
    found["dashboard"] = axe_violations(page)
    assert found == {"inbox": [], "case": [], "dashboard": []}


def test_browser_the_inbox_api_answers_with_the_same_search(live_server, morning):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(morning["marie"])
    body = client.get("/api/follow-ups/", {"view": "team", "q": "A-1042"}).json()
    assert [row["id"] for row in body["results"]] == [morning["ana"].pk]
    assert json.dumps(body)  # serialisable as sent
