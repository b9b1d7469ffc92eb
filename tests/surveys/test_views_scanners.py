"""The respondent page against mail scanners and replays: the first answer's browser keeps it, anyone else
goes through an explicit "change my answer" step, a machine's answer is held until its browser confirms it,
and nothing a respondent types (NUL included) or a stored property holds makes the page a 500."""

import re

import pytest
import time_machine
from django.test import Client

from surveys.models import Answer, Question, Response
from surveys.signals import response_submitted
from surveys.tokens import invitation_token
from tests.conftest import BROWSER_USER_AGENT
from tests.factories import InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db

NOW = "2026-03-02 10:00:00+00:00"
HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/125.0 Safari/537.36"


@pytest.fixture
def invitation():
    return InvitationFactory(survey=SurveyFactory(kind="nps", product_name="Acme"))


def url(invitation) -> str:
    return f"/s/{invitation_token(invitation.public_id)}/"


@pytest.fixture
def announced():
    calls = []

    def listener(sender, response_id, created, **kwargs):
        calls.append((response_id, created))

    response_submitted.connect(listener)
    yield calls
    response_submitted.disconnect(listener)


def browser(agent: str = BROWSER_USER_AGENT, address: str = "203.0.113.7") -> Client:
    return Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)


def test_first_answer_sets_an_http_only_cookie_scoped_to_its_link(invitation):
    page = browser().post(url(invitation), {"score": "9"})

    cookie = page.cookies["cl_answer"]
    assert page.status_code == 302
    assert (cookie["path"], cookie["httponly"], cookie["samesite"]) == (url(invitation), True, "Lax")


def test_a_replay_35_seconds_later_from_another_client_overwrites_nothing(
    invitation, announced, django_capture_on_commit_callbacks
):
    person, scanner = browser(), browser(address="40.92.0.10")
    with time_machine.travel(NOW) as traveller, django_capture_on_commit_callbacks(execute=True):
        person.post(url(invitation), {"score": "9"})
        traveller.shift(35)
        replay = scanner.post(url(invitation), {"score": "0"})

    assert (replay.status_code, replay["Location"]) == (302, url(invitation) + "?step=change")
    assert Response.objects.get().score == 9
    assert announced == [(Response.objects.get().pk, True)]


def test_the_first_browser_changes_its_own_answer(invitation):
    person = browser()
    with time_machine.travel(NOW) as traveller:
        person.post(url(invitation), {"score": "9"})
        traveller.shift(60)
        page = person.post(url(invitation), {"score": "7"})

    assert page["Location"] == url(invitation) + "?step=comment"
    assert Response.objects.get().score == 7


def test_change_step_needs_a_tap_on_its_form_and_its_nonce_works_once(invitation):
    with time_machine.travel(NOW) as traveller:
        browser().post(url(invitation), {"score": "9"})
        traveller.shift(60)
        other = browser(address="198.51.100.4")
        step = other.get(url(invitation) + "?step=change")
        nonce = re.search(r'name="change" value="([^"]+)"', step.content.decode()).group(1)
        changed = other.post(url(invitation), {"score": "3", "change": nonce})
        traveller.shift(60)
        replayed = browser(address="40.92.0.10").post(url(invitation), {"score": "0", "change": nonce})

    assert step.status_code == 200
    assert "already answered (9)" in step.content.decode()
    assert "data-auto-confirm>" not in step.content.decode() and " data-auto-confirm" not in step.content.decode()
    assert changed["Location"] == url(invitation) + "?step=comment"
    assert replayed["Location"] == url(invitation) + "?step=change"
    assert Response.objects.get().score == 3


def test_another_clients_reason_goes_to_the_change_step(invitation):
    browser().post(url(invitation), {"score": "9"})

    page = browser(address="40.92.0.10").post(url(invitation), {"step": "comment", "comment": "spam"})

    assert page["Location"] == url(invitation) + "?step=change"
    assert Response.objects.get().comment == ""


def test_a_headless_answer_is_held_then_confirmed_by_its_browsers_reason(
    invitation, announced, django_capture_on_commit_callbacks
):
    headless = browser(agent=HEADLESS)
    with django_capture_on_commit_callbacks(execute=True):
        headless.post(url(invitation), {"score": "0"})
    assert (Response.objects.get().held_reason, announced) == ("scanner_user_agent", [])

    # Only a person's browser confirms: the same cookie from a real browser's reason step.
    person = browser()
    person.cookies = headless.cookies
    with django_capture_on_commit_callbacks(execute=True):
        person.post(url(invitation), {"step": "comment", "comment": "Slow"})

    response = Response.objects.get()
    assert (response.held_reason, response.comment) == ("", "Slow")
    assert announced[0] == (response.pk, True)


def test_a_persons_one_tap_replaces_a_scanners_held_answer(invitation, announced, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        browser(agent=HEADLESS, address="40.92.0.10").post(url(invitation), {"score": "0"})
        page = browser().post(url(invitation), {"score": "10", "auto": "1"})

    response = Response.objects.get()
    assert page["Location"] == url(invitation) + "?step=comment"
    assert (response.score, response.held_reason) == (10, "")
    assert announced == [(response.pk, True)]


def test_a_nul_in_the_reason_is_a_400_page_and_saves_nothing(invitation):
    person = browser()
    person.post(url(invitation), {"score": "9"})

    page = person.post(url(invitation), {"step": "comment", "comment": "bad\x00text"})

    assert page.status_code == 400
    assert "cannot be saved" in page.content.decode()
    assert Response.objects.get().comment == ""


def test_a_nul_in_an_extra_answer_is_a_400_page_and_saves_nothing(invitation):
    question = Question.objects.create(survey=invitation.survey, kind="free_text", text={"en": "Anything else?"})
    person = browser()
    person.post(url(invitation), {"score": "9"})

    page = person.post(url(invitation), {"step": "question", "q": str(question.pk), "value": "a\x00b"})

    assert page.status_code == 400
    assert Answer.objects.count() == 0


@pytest.mark.parametrize("stored", [{"a": 1}, ["x"], 12, None])
def test_a_non_text_product_name_stored_before_validation_still_renders(invitation, stored):
    invitation.properties = {"question_product_name": stored, "locale": {"x": 1}}
    invitation.save()

    page = browser().get(url(invitation))

    assert page.status_code == 200
    assert "Acme" in page.content.decode()
