import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from surveys.models import Answer, Question, Response
from surveys.services.responses import (
    answer_save,
    response_comment,
    response_confirm,
    response_submit,
    response_submit_from_page,
)
from surveys.signals import response_submitted, response_withdrawn
from surveys.tokens import token_hash
from tests.factories import InvitationFactory, MessageFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db

NOW = "2026-03-02 10:00:00+00:00"


@pytest.fixture
def invitation():
    return InvitationFactory(survey=SurveyFactory(kind="csat"))


@pytest.fixture
def announced():
    calls = []

    def listener(sender, response_id, created, **kwargs):
        calls.append((response_id, created))

    response_submitted.connect(listener)
    yield calls
    response_submitted.disconnect(listener)


def test_response_submit_creates_then_changes_one_response(invitation, announced, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = response_submit(invitation=invitation, score=2)
        second = response_submit(invitation=invitation, score=5)

    assert first.pk == second.pk
    assert Response.objects.get().score == 5
    assert announced == [(first.pk, True), (first.pk, False)]


@pytest.fixture
def changes():
    calls = []

    def listener(sender, response_id, created, changed, **kwargs):
        calls.append((created, changed))

    response_submitted.connect(listener)
    yield calls
    response_submitted.disconnect(listener)


def test_response_comment_announces_a_new_reason_once_and_the_same_one_never(
    invitation, changes, django_capture_on_commit_callbacks
):
    response = ResponseFactory(invitation=invitation, score=2)

    with django_capture_on_commit_callbacks(execute=True):
        response_comment(response=response, comment="  Late parcel ")
        response_comment(response=response, comment="Late parcel")

    assert Response.objects.get().comment == "Late parcel"
    assert changes == [(False, ("comment",))]


def test_response_submit_with_a_comment_announces_once_what_changed(
    invitation, changes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=invitation, score=2, comment="Late parcel")
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=invitation, score=4, comment="Late, but fine")
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=invitation, score=4, comment="Late, but fine")

    assert (Response.objects.get().score, Response.objects.get().comment) == (4, "Late, but fine")
    assert changes == [(True, ()), (False, ("score", "comment"))]


@pytest.mark.parametrize("score", [0, 6])
def test_response_submit_out_of_scale_raises_and_stores_nothing(invitation, score):
    with pytest.raises(ValidationError) as error:
        response_submit(invitation=invitation, score=score)

    assert error.value.message_dict == {"score": ["Choose a score from 1 to 5."]}
    assert Response.objects.count() == 0


PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
HEADLESS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 HeadlessChrome/125.0.0.0 Safari/537.36"


def page_post(invitation, score, *, agent=PHONE, client="phone", token="", **kwargs):
    return response_submit_from_page(
        invitation=invitation, score=score, user_agent=agent, client=client, browser_token=token, **kwargs
    )


def test_response_submit_from_page_records_a_person_and_hands_their_browser_a_token(
    invitation, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = page_post(invitation, 4)

    response = Response.objects.get()
    assert (outcome.recorded, outcome.response, response.score, response.held_reason) == (True, response, 4, "")
    assert len(outcome.browser_token) >= 40
    assert announced == [(response.pk, True)]


def test_response_submit_from_page_the_first_browser_changes_its_answer(
    invitation, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = page_post(invitation, 4)
        again = page_post(invitation, 2, token=first.browser_token)

    assert (again.recorded, Response.objects.get().score) == (True, 2)
    assert announced == [(first.response.pk, True), (first.response.pk, False)]


def test_response_submit_from_page_a_replay_from_another_client_never_overwrites(
    invitation, announced, django_capture_on_commit_callbacks
):
    # Safe Links replays the page's POST about 35 s after the person, without the person's cookie.
    with time_machine.travel(NOW) as traveller, django_capture_on_commit_callbacks(execute=True):
        first = page_post(invitation, 9 % 6)
        traveller.shift(35)
        replay = page_post(invitation, 1, agent=PHONE, client="microsoft")

    assert (replay.recorded, replay.change_step, replay.browser_token) == (False, True, "")
    assert Response.objects.get().score == 3
    assert announced == [(first.response.pk, True)]


def test_response_submit_from_page_explicit_change_step_changes_and_moves_ownership(invitation):
    with time_machine.travel(NOW) as traveller:
        first = page_post(invitation, 4)
        traveller.shift(60)
        changed = page_post(invitation, 1, client="laptop", change=True)
        traveller.shift(60)
        # The first browser's cookie no longer owns the answer: it too goes through the change step.
        stale = page_post(invitation, 5, token=first.browser_token)

    assert (changed.recorded, Response.objects.get().score) == (True, 1)
    assert changed.browser_token and changed.browser_token != first.browser_token
    assert (stale.recorded, stale.change_step) == (False, True)


@pytest.mark.parametrize("agent", ["", HEADLESS, "Mozilla/5.0 (compatible; ms-office; MSOffice 16)", "curl/8.5.0"])
def test_response_submit_from_page_a_machines_answer_is_held_and_announced_to_nobody(
    invitation, announced, django_capture_on_commit_callbacks, agent
):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = page_post(invitation, 1, agent=agent, client="scanner")

    assert outcome.recorded is True
    assert Response.objects.get().held_reason in ("no_user_agent", "scanner_user_agent")
    assert announced == []


def test_response_submit_from_page_auto_confirm_right_after_delivery_is_held(
    invitation, announced, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False):
        invitation.message = MessageFactory(sent_at=timezone.now())
        invitation.save()
    with time_machine.travel("2026-03-02 10:00:20+00:00"), django_capture_on_commit_callbacks(execute=True):
        page_post(invitation, 1, auto_confirm=True, client="sandbox")

    assert Response.objects.get().held_reason == "too_soon_after_delivery"
    assert announced == []


def test_response_submit_from_page_auto_confirm_long_after_delivery_records_the_one_tap(
    invitation, announced, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False):
        invitation.message = MessageFactory(sent_at=timezone.now())
        invitation.save()
    with time_machine.travel("2026-03-02 10:05:00+00:00"), django_capture_on_commit_callbacks(execute=True):
        outcome = page_post(invitation, 1, auto_confirm=True)

    assert Response.objects.get().held_reason == ""
    assert announced == [(outcome.response.pk, True)]


def test_response_submit_from_page_a_persons_tap_replaces_a_held_answer_and_is_announced(
    invitation, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page_post(invitation, 1, agent=HEADLESS, client="scanner")
        person = page_post(invitation, 5)

    response = Response.objects.get()
    assert (person.recorded, response.score, response.held_reason) == (True, 5, "")
    assert announced == [(response.pk, True)]


def test_response_confirm_announces_a_held_answer_once(invitation, announced, django_capture_on_commit_callbacks):
    page_post(invitation, 2, agent=HEADLESS, client="scanner")
    with django_capture_on_commit_callbacks(execute=True):
        response_confirm(response=Response.objects.get())
        response_confirm(response=Response.objects.get())

    assert Response.objects.get().held_reason == ""
    assert announced == [(Response.objects.get().pk, True)]


def test_response_submit_from_page_burst_removes_what_it_created(invitation):
    with time_machine.travel(NOW) as traveller:
        results = []
        for score in (1, 2, 3, 4, 5):
            results.append(page_post(invitation, score, client="scanner"))
            traveller.shift(1)

    assert [result.recorded for result in results] == [True, False, False, False, False]
    assert Response.objects.count() == 0


def test_response_submit_from_page_burst_announces_the_withdrawal_before_deleting(invitation):
    seen = []

    def listener(sender, response_id, **kwargs):
        seen.append((response_id, Response.objects.filter(pk=response_id).exists()))

    response_withdrawn.connect(listener)
    try:
        with time_machine.travel(NOW):
            created = page_post(invitation, 1, client="scanner")
            for score in (2, 3, 4):
                page_post(invitation, score, client="scanner", token=created.browser_token)
    finally:
        response_withdrawn.disconnect(listener)

    assert seen == [(created.response.pk, True)]
    assert Response.objects.count() == 0


def test_response_submit_from_page_burst_of_a_held_answer_withdraws_silently(invitation):
    seen = []
    response_withdrawn.connect(listener := lambda sender, response_id, **kwargs: seen.append(response_id))
    try:
        with time_machine.travel(NOW):
            for score in (1, 2, 3):
                page_post(invitation, score, agent=HEADLESS, client="scanner")
    finally:
        response_withdrawn.disconnect(listener)

    assert seen == []
    assert Response.objects.count() == 0


def test_response_submit_from_page_a_burst_never_drops_another_clients_tap(invitation):
    # Someone holding the link keeps posting different scores: the customer's phone still records.
    with time_machine.travel(NOW):
        for score in (1, 2, 3, 4):
            page_post(invitation, score, agent=HEADLESS, client="attacker")
        customer = page_post(invitation, 5, client="customer-phone")
        for score in (1, 2):
            page_post(invitation, score, agent=HEADLESS, client="attacker")

    assert customer.recorded is True
    assert (Response.objects.get().score, Response.objects.get().held_reason) == (5, "")


def test_response_submit_from_page_burst_restores_the_earlier_score(
    invitation, announced, django_capture_on_commit_callbacks
):
    earlier = ResponseFactory(invitation=invitation, score=4, browser_hash=token_hash("owner"))
    with time_machine.travel(NOW), django_capture_on_commit_callbacks(execute=True):
        for score in (1, 2, 3):
            page_post(invitation, score, token="owner")

    assert Response.objects.get().score == 4
    # Downstream saw each change, the restoring one last, so it ends on the earlier score.
    assert announced == [(earlier.pk, False), (earlier.pk, False), (earlier.pk, False)]


def test_response_submit_from_page_same_score_repeated_is_not_a_burst(invitation):
    with time_machine.travel(NOW):
        for _ in range(5):
            page_post(invitation, 2)

    assert Response.objects.get().score == 2


def test_response_submit_from_page_burst_window_is_a_setting(invitation, settings):
    settings.SCANNER_WINDOW_SECONDS = 2
    with time_machine.travel(NOW) as traveller:
        first = page_post(invitation, 1)
        for score in (2, 3):
            traveller.shift(3)
            page_post(invitation, score, token=first.browser_token)

    assert Response.objects.get().score == 3


def test_response_submit_from_page_out_of_scale_raises(invitation):
    with pytest.raises(ValidationError):
        response_submit_from_page(invitation=invitation, score=9)

    assert Response.objects.count() == 0


@pytest.fixture
def response(invitation):
    return ResponseFactory(invitation=invitation, score=2)


@pytest.mark.parametrize(
    "kind,extra,given,stored",
    [
        ("free_text", {}, ["  Too slow  "], "Too slow"),
        ("scale", {"scale_max": 7}, ["7"], "7"),
        ("select_one", {"choices": [{"value": "a", "en": "A"}, {"value": "b", "en": "B"}]}, ["b"], "b"),
        ("select_many", {"choices": [{"value": "a", "en": "A"}, {"value": "b", "en": "B"}]}, ["a", "b"], ["a", "b"]),
    ],
)
def test_answer_save_stores_the_clean_value(response, kind, extra, given, stored):
    question = Question.objects.create(survey=response.survey, kind=kind, text={"en": "Q"}, **extra)

    answer_save(response=response, question=question, value=given)

    assert Answer.objects.get().value == stored


@pytest.mark.parametrize(
    "kind,extra,given,message",
    [
        ("scale", {"scale_max": 5}, ["0"], "Choose a number from 1 to 5."),
        ("scale", {"scale_max": 5}, ["x"], "Choose a number from 1 to 5."),
        ("select_one", {"choices": [{"value": "a", "en": "A"}]}, ["z"], "Choose one of the options shown."),
        ("select_many", {"choices": [{"value": "a", "en": "A"}]}, ["a", "z"], "Choose among the options shown."),
    ],
)
def test_answer_save_refuses_values_outside_the_question(response, kind, extra, given, message):
    question = Question.objects.create(survey=response.survey, kind=kind, text={"en": "Q"}, **extra)

    with pytest.raises(ValidationError) as error:
        answer_save(response=response, question=question, value=given)

    assert error.value.message_dict == {"value": [message]}
    assert Answer.objects.count() == 0


def test_answer_save_changes_then_clears_the_answer(response):
    question = Question.objects.create(survey=response.survey, kind="free_text", text={"en": "Q"})

    answer_save(response=response, question=question, value=["first"])
    answer_save(response=response, question=question, value=["second"])
    assert list(Answer.objects.values_list("value", flat=True)) == ["second"]
    answer_save(response=response, question=question, value=[""])

    assert Answer.objects.count() == 0


@pytest.mark.parametrize(
    "low,high,score,asked",
    [(None, None, 0, True), (None, 6, 6, True), (None, 6, 7, False), (9, None, 9, True), (9, None, 8, False)],
)
def test_question_applies_to_scores_in_its_range(low, high, score, asked):
    question = Question(kind="free_text", text={"en": "Q"}, show_if_score_min=low, show_if_score_max=high)

    assert question.applies_to(score) is asked


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_response_submit_from_page_parallel_scanner_posts_record_nothing():
    """A scanner posting all eleven score links at once, each from its own connection (PostgreSQL)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    invitation = InvitationFactory(survey=SurveyFactory(kind="nps"))

    def post(score: int) -> bool:
        try:
            return response_submit_from_page(invitation=invitation, score=score, client="scanner").recorded
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=11) as pool:
        recorded = list(pool.map(post, range(11)))

    assert recorded.count(True) <= 2
    assert Response.objects.count() == 0
