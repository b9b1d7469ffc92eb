"""The web widget in a real browser, embedded in a page of ANOTHER origin: a second HTTP server on 127.0.0.1 serves
the host page; the snippet and its endpoints come from the live server (another port, so another origin)."""

import pytest
from django.conf import settings

from feedback.models import FollowUp
from surveys.models import Invitation, Question, Response
from surveys.services.publishable_keys import publishable_key_create
from tests.factories import ManagerFactory, RoutingRuleFactory, SurveyFactory, TeamFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CARD = "[data-closeloop=widget]"


@pytest.fixture
def widget(live_server, host_site):
    """A key for an NPS survey, allowed on the host site's origin; returns a function writing a host page."""
    RoutingRuleFactory(team=TeamFactory(name="Care"))
    survey = SurveyFactory(kind="nps", product_name="Acme")
    key = publishable_key_create(name="App", survey=survey, allowed_origins=[host_site.origin])

    def page(call: str, path: str = "/app", head: str = "") -> str:
        return host_site.page(path, f"{live_server.url}/web/snippet.js", key.key, call, head)

    page.key = key
    return page


@pytest.fixture
def host_page(chromium):
    context = chromium.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    yield page
    context.close()


def card_shown(page) -> bool:
    return page.locator(CARD).count() == 1


def focused_in_card(page, script: str) -> str:
    return page.evaluate(
        f"(() => {{ const el = document.querySelector('{CARD}').shadowRoot.activeElement; {script} }})()"
    )


def test_browser_closeloop_survey_answered_with_the_keyboard(widget, host_page):
    host_page.goto(widget('closeloop.survey({email: "ann@example.com", name: "Ann"})'))
    host_page.get_by_role("button", name="10: Extremely likely").wait_for()

    # The card never takes the focus by itself; the first Tab of the page reaches it, then each score.
    assert host_page.evaluate("document.activeElement === document.body")
    host_page.keyboard.press("Tab")
    assert focused_in_card(host_page, "return el.getAttribute('aria-label');") == "0: Not at all likely"
    assert focused_in_card(host_page, "return getComputedStyle(el).outlineStyle;") == "solid"
    for _ in range(3):
        host_page.keyboard.press("Tab")
    assert focused_in_card(host_page, "return el.textContent;") == "3"
    host_page.keyboard.press("Enter")
    host_page.get_by_label("What is the main reason for your score?").wait_for()
    assert focused_in_card(host_page, "return el.tagName;") == "TEXTAREA"
    host_page.keyboard.type("Delivery was late")
    host_page.keyboard.press("Tab")
    host_page.keyboard.press("Tab")
    assert focused_in_card(host_page, "return el.textContent;") == "Next"
    host_page.keyboard.press("Enter")
    host_page.get_by_role("paragraph").filter(has_text="Thank you for your feedback!").wait_for()
    host_page.keyboard.press("Escape")

    assert not card_shown(host_page)
    response = Response.objects.select_related("invitation", "contact").get()
    assert (response.score, response.comment, response.invitation.channel) == (3, "Delivery was late", "web")
    assert response.contact.email == "ann@example.com"
    assert FollowUp.objects.get().response == response


def test_browser_delighted_survey_answered_by_pointer_in_french_with_a_question(widget, host_page):
    question = Question.objects.create(
        survey=widget.key.survey,
        kind="select_one",
        text={"en": "Would you order again?", "fr": "Commanderiez-vous à nouveau ?"},
        choices=[{"value": "yes", "en": "Yes", "fr": "Oui"}, {"value": "no", "en": "No", "fr": "Non"}],
    )
    call = (
        'delighted.survey({email: "bob@example.com", name: "Bob", '
        'properties: {locale: "fr", questionProductName: "la Classique", plan: "pro"}})'
    )
    host_page.goto(widget(call))

    assert host_page.locator("legend").inner_text() == (
        "Quelle est la probabilité que vous recommandiez la Classique à un ami ou un collègue\N{NO-BREAK SPACE}?"
    )
    host_page.get_by_role("button", name="9", exact=True).click()
    host_page.get_by_role("button", name="Passer").click()
    host_page.get_by_label("Oui").check()
    host_page.get_by_role("button", name="Suivant").click()
    host_page.get_by_role("paragraph").filter(has_text="Merci pour votre avis\N{NO-BREAK SPACE}!").wait_for()
    host_page.get_by_role("button", name="Fermer le questionnaire").first.click()

    assert not card_shown(host_page)
    response = Response.objects.get()
    assert (response.score, response.comment, response.invitation.locale) == (9, "", "fr")
    assert response.invitation.properties == {"question_product_name": "la Classique", "plan": "pro"}
    assert response.answers.get(question=question).value == "yes"


def test_browser_the_card_asks_a_question_only_after_the_answer_it_depends_on(widget, host_page):
    survey = widget.key.survey
    survey.questions.create(position=0, kind="yes_no", text={"en": "Did it arrive complete?"})
    survey.questions.create(
        position=1,
        kind="free_text",
        text={"en": "What did you like?"},
        show_if_answer={"question": 0, "values": ["yes"]},
    )
    missing = survey.questions.create(
        position=2, kind="free_text", text={"en": "What was missing?"}, show_if_answer={"question": 0, "values": ["no"]}
    )
    host_page.goto(widget('closeloop.survey({email: "ann@example.com"})'))

    host_page.get_by_role("button", name="4", exact=True).click()
    host_page.get_by_role("button", name="Skip").click()
    host_page.get_by_label("No", exact=True).check()
    host_page.get_by_role("button", name="Next").click()
    # "What did you like?" is passed over: the answer was no.
    host_page.get_by_label("What was missing?").fill("The lid")
    host_page.get_by_role("button", name="Next").click()
    host_page.get_by_role("paragraph").filter(has_text="Thank you for your feedback!").wait_for()

    response = Response.objects.get()
    assert {answer.question.text["en"]: answer.value for answer in response.answers.all()} == {
        "Did it arrive complete?": "no",
        "What was missing?": "The lid",
    }
    assert response.answers.get(question=missing).value == "The lid"


def test_browser_the_card_does_not_block_the_page_and_escape_dismisses_it(widget, host_page):
    host_page.goto(widget("closeloop.survey()"))
    host_page.get_by_role("button", name="0: Not at all likely").wait_for()

    host_page.locator("#host-button").click()
    assert host_page.locator("#host-button").get_attribute("data-clicks") == "1"
    host_page.get_by_role("button", name="5", exact=True).focus()
    host_page.keyboard.press("Escape")

    assert not card_shown(host_page)
    assert Response.objects.count() == 0
    assert Invitation.objects.get().channel == "web"


def test_browser_fatigue_a_second_call_and_a_second_visit_do_not_show(widget, host_page, chromium):
    url = widget('closeloop.survey({email: "ann@example.com"})')
    host_page.goto(url)
    host_page.get_by_role("button", name="0: Not at all likely").wait_for()

    # Same page, second call while the card is up: nothing more.
    host_page.evaluate('closeloop.survey({email: "ann@example.com"})')
    host_page.wait_for_timeout(500)
    assert host_page.locator(CARD).count() == 1
    # The next visit of this browser: it remembers (localStorage) and does not even ask.
    host_page.reload()
    host_page.wait_for_timeout(1000)
    assert not card_shown(host_page)
    # Another browser of the same person: the server remembers.
    other = chromium.new_context().new_page()
    other.goto(url)
    other.wait_for_timeout(1000)
    assert not card_shown(other)
    other.context.close()
    assert Invitation.objects.count() == 1
    # Someone else signs in on the first browser: the first person's wait does not silence them.
    host_page.evaluate('closeloop.survey({email: "bob@example.com"})')
    host_page.get_by_role("button", name="0: Not at all likely").wait_for()
    assert sorted(Invitation.objects.values_list("contact__email", flat=True)) == [
        "ann@example.com",
        "bob@example.com",
    ]


def test_browser_an_origin_the_key_does_not_allow_gets_no_survey(widget, host_page, live_server):
    widget.key.allowed_origins = ["https://app.shop.example"]
    widget.key.save()
    refused = []
    host_page.on("response", lambda response: refused.append(response.status) if "/web/v1/" in response.url else None)

    host_page.goto(widget('closeloop.survey({email: "ann@example.com", forceDisplay: true})'))
    host_page.wait_for_timeout(1500)

    assert not card_shown(host_page)
    assert Invitation.objects.count() == 0


def test_browser_calls_queued_before_an_async_snippet_loads_are_shown(widget, host_page):
    # Delighted's loader queues calls on window.delighted until its library loads; pages keep that habit.
    stub = (
        "<script>window.delighted = window.delighted || [];"
        'delighted.survey = function () { delighted.push(["survey", [].slice.call(arguments)]); };'
        'delighted.survey({email: "queued@example.com"});</script>'
    )
    host_page.goto(widget("", head=stub))

    host_page.get_by_role("button", name="0: Not at all likely").wait_for()
    assert Invitation.objects.get().contact.email == "queued@example.com"


@pytest.mark.parametrize("kind", ["nps", "csat", "ces", "five_star", "thumbs"])
def test_browser_the_card_has_no_axe_violations_and_fits_a_phone(widget, chromium, axe_violations, kind):
    widget.key.survey.kind = kind
    widget.key.survey.save()
    context = chromium.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(widget("closeloop.survey()"))
    page.locator(CARD).wait_for(state="attached")
    page.get_by_role("complementary", name="Your feedback").wait_for()

    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.locator(".scale button").first.click()  # the lowest score: the reason is asked
    page.get_by_role("button", name="Next").wait_for()
    assert axe_violations(page) == []
    context.close()


def test_browser_a_manager_creates_a_key_in_the_console_and_its_snippet_works_on_their_site(
    chromium, live_server, host_site, axe_violations
):
    survey = SurveyFactory(kind="csat", name="In-app CSAT")
    ManagerFactory(email="boss@shop.test")
    context = chromium.new_context(viewport={"width": 360, "height": 740}, base_url=live_server.url)
    page = context.new_page()
    page.goto("/accounts/login/?next=/settings/web-widget/")
    page.get_by_label("Email").fill("boss@shop.test")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/settings/web-widget/")

    page.get_by_label("Name").fill("Shop app")
    page.get_by_label("Survey").select_option(label="In-app CSAT")
    page.get_by_label("Allowed sites").fill(host_site.origin)
    page.get_by_role("button", name="Create the key").click()
    snippet = page.get_by_label("Snippet").input_value()
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("link", name="Shop app").click()
    page.get_by_role("heading", name="Widget key “Shop app”").wait_for()
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()

    # The snippet names SITE_URL, which the test settings set to a name the browser cannot reach.
    assert snippet.startswith(f'<script src="{settings.SITE_URL}/web/snippet.js" data-key="pk_')
    snippet = snippet.replace(settings.SITE_URL, live_server.url)
    host_site.pages["/pasted"] = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head><body>'
        '<script>var user = {email: "cara@example.com", name: "Cara"};</script>'
        f"{snippet}</body></html>"
    )
    visitor = chromium.new_context().new_page()
    visitor.goto(host_site.origin + "/pasted")
    visitor.get_by_role("button", name="5: Very satisfied").click()
    visitor.get_by_role("button", name="Skip").wait_for()
    visitor.context.close()

    response = Response.objects.get()
    assert (response.survey, response.score, response.contact.name) == (survey, 5, "Cara")


def test_browser_the_card_is_styled_under_a_page_policy_that_forbids_inline_styles(widget, host_page, live_server):
    policy = (
        f"default-src 'self'; script-src 'self' {live_server.url} 'unsafe-inline'; "
        f"connect-src {live_server.url}; style-src 'self'"
    )
    host_page.goto(widget("closeloop.survey()", head=f'<meta http-equiv="Content-Security-Policy" content="{policy}">'))
    host_page.get_by_role("button", name="0: Not at all likely").wait_for()

    position = host_page.evaluate(
        "getComputedStyle(document.querySelector('[data-closeloop=widget]').shadowRoot.querySelector('aside')).position"
    )
    assert position == "fixed"


def test_browser_min_time_on_page_waits_before_asking(widget, host_page):
    host_page.goto(widget("closeloop.survey({minTimeOnPage: 3})"))

    host_page.wait_for_timeout(1500)
    assert not card_shown(host_page)
    assert Invitation.objects.count() == 0
    host_page.get_by_role("button", name="0: Not at all likely").wait_for(timeout=5000)
