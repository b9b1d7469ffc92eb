"""A manager sets Closeloop up in the console, in a real browser, and a customer's event goes out as set up.

Signs in; creates a CSAT survey in English and French with one question asked only to unhappy scores;
previews its email in French; sets the brand's sender; adds a trigger rule and a routing rule; creates
an API key; invites an agent, who sets a password from the emailed link and signs in. An event sent with
that key reaches a fake SendGrid (through the real SDK) with the French question and the brand's sender.
"""

import json
import re
import urllib.request

import pytest
from django.test import override_settings

from feedback.models import RoutingRule, User
from surveys.models import Answer, Survey, TriggerRule
from surveys.services.dispatch import invitations_dispatch_due
from surveys.tokens import invitation_token
from tests.browser.console_pages import assert_accessible_at_its_width, log_in
from tests.factories import InvitationFactory, ManagerFactory, TeamFactory
from tests.fakes.providers import FakeProviders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROVIDER_SETTINGS = {
    "SENDGRID_API_KEY": "SG.test-key-not-secret",
    "DEFAULT_FROM_EMAIL": "Closeloop <surveys@closeloop.test>",
    "NOTIFICATIONS_TRANSPORTS": {
        "email": "notifications.transports.sendgrid.SendGridTransport",
        "sms": "notifications.transports.locmem.LocmemTransport",
    },
}


@pytest.fixture
def fake_sendgrid(live_server):
    fake = FakeProviders().start()
    with override_settings(SENDGRID_API_BASE_URL=fake.url, SITE_URL=live_server.url, **PROVIDER_SETTINGS):
        yield fake
    fake.stop()


def test_browser_manager_sets_up_a_french_csat_survey_and_an_event_goes_out_as_set_up(
    wide_page, fake_sendgrid, axe_violations, live_server
):
    page = wide_page
    ManagerFactory(email="lead@closeloop.test")
    TeamFactory(name="Care")
    third_party = []
    page.on(
        "request",
        lambda request: third_party.append(request.url) if not request.url.startswith(live_server.url) else None,
    )
    log_in(page, "lead@closeloop.test", "password", "/follow-ups/")
    page.get_by_role("link", name="Settings").click()
    page.wait_for_url("**/settings/")
    assert_accessible_at_its_width(page, axe_violations)

    # A CSAT survey in English and French, with one question asked only to scores 1 to 2.
    page.get_by_role("link", name="Surveys").first.click()
    page.get_by_role("link", name="New survey").click()
    page.get_by_label("Name", exact=True).fill("Support CSAT")
    page.get_by_label("Kind").select_option("csat")
    page.get_by_label("Product name").fill("Acme support")
    page.get_by_label("Question (English)").first.fill("How was our help?")
    page.get_by_label("Question (French)").first.fill("Comment était notre aide ?")
    page.locator('[name="q-0-kind"]').select_option("free_text")
    page.locator('[name="q-0-text_en"]').fill("What should we have done?")
    page.locator('[name="q-0-text_fr"]').fill("Qu'aurions-nous dû faire ?")
    page.locator('[name="q-0-show_if_score_max"]').select_option("2")
    page.get_by_label("Don't ask a person this survey again within (days)").fill("14")
    page.get_by_label("Links expire after (days)").fill("7")
    assert_accessible_at_its_width(page, axe_violations)
    page.get_by_role("button", name="Save and preview").click()
    page.wait_for_url("**/preview/")

    survey = Survey.objects.get(name="Support CSAT")
    question = survey.questions.get()
    assert (survey.kind, question.show_if_score_min, question.show_if_score_max) == ("csat", None, 2)
    assert (survey.fatigue_survey_days, survey.link_expiry_days, survey.fatigue_global_days) == (14, 7, None)
    assert question.text == {"en": "What should we have done?", "fr": "Qu'aurions-nous dû faire ?"}

    # Its email, previewed in French.
    page.get_by_role("link", name="FR", exact=True).click()
    page.wait_for_url("**locale=fr")
    assert page.locator("#preview-subject").inner_text() == "Acme support : une petite question"
    assert "Comment était notre aide ?" in page.locator("#preview-text").inner_text()
    frame = page.frame_locator('iframe[title="Email as HTML"]')
    frame.get_by_text("Comment était notre aide ?").wait_for(state="visible", timeout=5000)
    assert "GSM-7" in page.locator("#sms-segments").inner_text()
    assert_accessible_at_its_width(page, axe_violations)

    # The brand's sender.
    page.get_by_role("link", name="Branding").click()
    page.get_by_label("Sender name").fill("Acme Care")
    page.get_by_label("Sender email").fill("care@acme.test")
    page.get_by_label("Brand colour").fill("#0b6b2b")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("status").inner_text() == "Saved."

    # When to ask, and what to do with unhappy answers.
    page.get_by_role("link", name="When to ask").click()
    page.get_by_role("link", name="New trigger rule").click()
    page.get_by_label("Event type").fill("support_ticket_solved")
    page.get_by_label("Survey").select_option(label="Support CSAT")
    page.get_by_label("Channel").select_option("email")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/settings/trigger-rules/")
    page.get_by_role("link", name="Routing").click()
    page.get_by_role("link", name="New routing rule").click()
    page.get_by_label("Survey", exact=True).select_option(label="Support CSAT")
    page.get_by_label("Score to").fill("2")
    page.get_by_label("Team").select_option(label="Care")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/settings/routing-rules/")
    assert TriggerRule.objects.get().survey == survey
    rule = RoutingRule.objects.get()
    assert (rule.survey, rule.score_max, rule.team.name) == (survey, 2, "Care")

    # An API key, shown once.
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name", exact=True).fill("Helpdesk")
    page.get_by_label("Send events").check()
    page.get_by_role("button", name="Create the key").click()
    raw_key = page.get_by_label("The key").input_value()
    assert raw_key.startswith("cl_")
    assert_accessible_at_its_width(page, axe_violations)

    # An agent, invited by email, sets a password from the link and signs in.
    page.get_by_role("link", name="People").click()
    page.get_by_label("Email").fill("new.agent@closeloop.test")
    page.get_by_label("Role").select_option("agent")
    page.get_by_label("Team").select_option(label="Care")
    page.get_by_role("button", name="Send the invitation").click()
    assert "new.agent@closeloop.test is invited" in page.get_by_role("status").inner_text()
    [invitation_email] = fake_sendgrid.sendgrid()
    assert invitation_email.json()["personalizations"] == [{"to": [{"email": "new.agent@closeloop.test"}]}]
    text = invitation_email.json()["content"][0]["value"]
    link = re.search(r"http://\S+/accounts/reset/\S+/", text).group(0)
    page.get_by_role("button", name="Log out").click()
    page.goto(link)
    page.get_by_label("New password").fill("a long new password")
    page.get_by_label("The same again").fill("a long new password")
    page.get_by_role("button", name="Save my password").click()
    page.get_by_role("heading", name="Password saved").wait_for()
    log_in(page, "new.agent@closeloop.test", "a long new password", "/follow-ups/")
    assert User.objects.get(email="new.agent@closeloop.test").team.name == "Care"

    # An event sent with the key reaches SendGrid in French, from the brand's sender.
    event = {
        "type": "support_ticket_solved",
        "external_id": "ticket-1",
        "contact": {"email": "client@example.fr", "name": "Chloé", "locale": "fr"},
    }
    request = urllib.request.Request(
        f"{live_server.url}/api/events/",
        data=json.dumps(event).encode(),
        headers={"Authorization": f"Bearer {raw_key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201
    assert invitations_dispatch_due() == 1
    survey_email = fake_sendgrid.sendgrid()[-1].json()
    assert survey_email["personalizations"] == [{"to": [{"email": "client@example.fr"}]}]
    assert survey_email["from"] == {"email": "care@acme.test", "name": "Acme Care"}
    assert survey_email["subject"] == "Acme support : une petite question"
    assert "Comment était notre aide ?" in survey_email["content"][0]["value"]
    assert "background:#0b6b2b" in survey_email["content"][1]["value"]
    assert third_party == []


def test_browser_manager_creates_a_survey_s_public_link_and_gets_its_qr_code(wide_page, axe_violations):
    ManagerFactory(email="lead@closeloop.test")
    survey = Survey.objects.create(name="Store exit", kind="csat", product_name="Acme")
    page = wide_page
    log_in(page, "lead@closeloop.test", "password", "/settings/surveys/")
    page.get_by_role("link", name=f"Link & QR of {survey.name}").click()
    assert_accessible_at_its_width(page, axe_violations)

    page.get_by_label("Link name").fill("store-exit")
    page.get_by_label("Allow kiosk mode").check()
    page.get_by_role("button", name="Create the link").click()
    assert page.get_by_role("status").inner_text() == "Saved."
    assert_accessible_at_its_width(page, axe_violations)
    qr = page.locator("#link-qr")
    assert qr.get_attribute("alt") == "QR code of http://testserver/l/store-exit/"
    # The image comes from this server, and is a picture a browser can draw.
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")
    assert page.locator("#kiosk-url").inner_text().endswith("/l/store-exit/?kiosk=1")
    assert survey.public_link.kiosk_enabled is True


def test_browser_routing_dry_run_says_which_rule_decides_at_360_px(wide_page, axe_violations, live_server):
    page = wide_page
    ManagerFactory(email="lead@closeloop.test")
    survey = Survey.objects.create(name="Delivery", kind="nps", product_name="Acme")
    RoutingRule.objects.create(position=1, team=TeamFactory(name="Billing"), comment_contains="refund", priority="high")
    log_in(page, "lead@closeloop.test", "password", "/settings/routing-rules/")
    page.get_by_role("link", name="Dry run").click()
    page.wait_for_url("**/settings/routing-rules/dry-run/")
    assert_accessible_at_its_width(page, axe_violations)

    page.get_by_label("Survey", exact=True).select_option(label=survey.name)
    page.get_by_label("Score", exact=True).fill("2")
    page.get_by_label("Comment", exact=True).fill("Still waiting for my refund")
    page.get_by_role("button", name="Try it").click()
    page.wait_for_url("**/settings/routing-rules/dry-run/?*")
    assert (
        page.get_by_role("status").inner_text()
        == "Rule #1 decides: it opens a case for Billing (high priority, SLA 24 h)."
    )
    assert page.get_by_role("cell", name="Decides").is_visible()
    assert_accessible_at_its_width(page, axe_violations)

    # A score off the scale: the same page, the field's error said in words.
    page.get_by_label("Score", exact=True).fill("11")
    page.get_by_role("button", name="Try it").click()
    page.wait_for_url("**score=11*")
    assert page.get_by_role("alert").inner_text() == "Give a score from 0 to 10 for this survey."
    assert_accessible_at_its_width(page, axe_violations)


def test_browser_canned_replies_page_at_360_px(wide_page, axe_violations):
    page = wide_page
    ManagerFactory(email="lead@closeloop.test")
    TeamFactory(name="Care")
    log_in(page, "lead@closeloop.test", "password", "/settings/canned-replies/")
    assert_accessible_at_its_width(page, axe_violations)
    page.get_by_role("link", name="New canned reply").click()
    page.get_by_label("Team").select_option(label="Care")
    page.get_by_label("Language").select_option(label="French")
    page.get_by_label("Title").fill("Retard de livraison")
    page.get_by_role("button", name="Save").click()
    # No body: the same page, the field's error said in words.
    assert page.get_by_role("alert").inner_text() == "This field is required."
    assert_accessible_at_its_width(page, axe_violations)
    page.get_by_label("Text").fill("Bonjour {first_name}, votre colis {order_id} arrive demain.")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/settings/canned-replies/")
    assert page.get_by_role("link", name="Retard de livraison").is_visible()
    assert_accessible_at_its_width(page, axe_violations)


def test_browser_webhooks_page_create_secret_once_log_replay_and_rotate_at_360_px(wide_page, axe_violations, settings):
    from django.utils import timezone

    from integrations.models import WebhookDelivery, WebhookSubscription

    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    page = wide_page
    ManagerFactory(email="lead@closeloop.test")
    log_in(page, "lead@closeloop.test", "password", "/settings/webhooks/")
    assert_accessible_at_its_width(page, axe_violations)
    page.get_by_role("link", name="New webhook").click()
    page.get_by_label("Name").fill("CRM")
    page.get_by_label("URL").fill("http://127.0.0.1:9/hook")
    page.get_by_label("Survey response created").check()
    page.get_by_role("button", name="Save").click()
    subscription = WebhookSubscription.objects.get()
    assert page.get_by_label("The signing secret").input_value() == subscription.secret
    assert_accessible_at_its_width(page, axe_violations)

    failed = WebhookDelivery.objects.create(
        subscription=subscription, event_type="survey_response.created", event_id="evt-1", payload={},
        next_attempt_at=timezone.now(), status="failed", attempts=12, response_code=500, error="HTTP 500",
    )  # fmt: skip
    page.goto(f"/settings/webhooks/{subscription.pk}/")
    assert page.get_by_label("The signing secret").count() == 0
    page.get_by_role("button", name=f"Replay delivery #{failed.pk}").click()
    page.wait_for_url("**replayed=*")
    replay = WebhookDelivery.objects.exclude(pk=failed.pk).get()
    assert (
        page.get_by_role("status").inner_text()
        == f"Replayed as delivery #{replay.pk}: it is the first line of the log."
    )
    assert_accessible_at_its_width(page, axe_violations)

    page.get_by_role("button", name="Rotate the secret").click()
    subscription.refresh_from_db()
    assert page.get_by_label("The new signing secret").input_value() == subscription.secret
    assert "each delivery is signed with both the new and the old secret" in page.get_by_role("status").inner_text()
    assert_accessible_at_its_width(page, axe_violations)


def test_browser_manager_adds_a_question_asked_only_after_no_and_a_customer_without_javascript_gets_it(
    wide_page, no_js_page, axe_violations
):
    ManagerFactory(email="lead@closeloop.test")
    survey = Survey.objects.create(name="Delivery", kind="csat", product_name="Acme")
    survey.questions.create(position=0, kind="yes_no", text={"en": "Did it arrive complete?"})
    page = wide_page
    log_in(page, "lead@closeloop.test", "password", f"/settings/surveys/{survey.pk}/")

    page.locator('[name="q-1-kind"]').select_option("free_text")
    page.locator('[name="q-1-text_en"]').fill("What was missing?")
    page.locator('[name="q-1-show_if_question"]').select_option(label="question 1")
    page.locator('[name="q-1-show_if_values"]').fill("no")
    assert_accessible_at_its_width(page, axe_violations)
    page.get_by_role("button", name="Save and preview").click()
    page.wait_for_url("**/preview/")
    assert survey.questions.get(position=1).show_if_answer == {"question": 0, "values": ["no"]}

    invitation = InvitationFactory(survey=survey)
    no_js_page.goto(f"/s/{invitation_token(invitation.public_id)}/?score=2")
    no_js_page.get_by_role("button", name="Send").click()
    no_js_page.wait_for_url("**step=comment")
    no_js_page.get_by_role("button", name="Next").click()
    no_js_page.get_by_label("No", exact=True).check()
    no_js_page.get_by_role("button", name="Next").click()
    no_js_page.get_by_label("What was missing?").fill("The lid")
    no_js_page.get_by_role("button", name="Next").click()

    assert no_js_page.get_by_role("heading").inner_text() == "Thank you for your feedback!"
    assert sorted(Answer.objects.values_list("value", flat=True)) == ["The lid", "no"]
