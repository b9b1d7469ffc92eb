import pytest
import time_machine
from django.core.exceptions import ValidationError

from surveys.models import Answer, Question, Response
from surveys.services.responses import answer_save, response_comment, response_submit, response_submit_from_page
from surveys.signals import response_submitted, response_withdrawn
from tests.factories import InvitationFactory, ResponseFactory, SurveyFactory

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


def test_response_submit_from_page_records_a_person(invitation):
    response = response_submit_from_page(invitation=invitation, score=4)

    assert Response.objects.get() == response
    assert response.score == 4


def test_response_submit_from_page_burst_removes_what_it_created(invitation):
    with time_machine.travel(NOW) as traveller:
        results = []
        for score in (1, 2, 3, 4, 5):
            results.append(response_submit_from_page(invitation=invitation, score=score))
            traveller.shift(1)

    assert [result is None for result in results] == [False, False, True, True, True]
    assert Response.objects.count() == 0


def test_response_submit_from_page_burst_announces_the_withdrawal_before_deleting(invitation):
    seen = []

    def listener(sender, response_id, **kwargs):
        seen.append((response_id, Response.objects.filter(pk=response_id).exists()))

    response_withdrawn.connect(listener)
    try:
        with time_machine.travel(NOW):
            created = response_submit_from_page(invitation=invitation, score=1)
            for score in (2, 3, 4):
                response_submit_from_page(invitation=invitation, score=score)
    finally:
        response_withdrawn.disconnect(listener)

    assert seen == [(created.pk, True)]
    assert Response.objects.count() == 0


def test_response_submit_from_page_burst_restores_the_earlier_score(
    invitation, announced, django_capture_on_commit_callbacks
):
    earlier = ResponseFactory(invitation=invitation, score=4)
    with time_machine.travel(NOW), django_capture_on_commit_callbacks(execute=True):
        for score in (1, 2, 3):
            response_submit_from_page(invitation=invitation, score=score)

    assert Response.objects.get().score == 4
    # Downstream saw each change, the restoring one last, so it ends on the earlier score.
    assert announced == [(earlier.pk, False), (earlier.pk, False), (earlier.pk, False)]


def test_response_submit_from_page_same_score_repeated_is_not_a_burst(invitation):
    with time_machine.travel(NOW):
        for _ in range(5):
            response_submit_from_page(invitation=invitation, score=2)

    assert Response.objects.get().score == 2


def test_response_submit_from_page_burst_window_is_a_setting(invitation, settings):
    settings.SCANNER_WINDOW_SECONDS = 2
    with time_machine.travel(NOW) as traveller:
        for score in (1, 2, 3):
            response_submit_from_page(invitation=invitation, score=score)
            traveller.shift(3)

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
            return response_submit_from_page(invitation=invitation, score=score) is not None
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=11) as pool:
        recorded = list(pool.map(post, range(11)))

    assert recorded.count(True) <= 2
    assert Response.objects.count() == 0
