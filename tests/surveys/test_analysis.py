import pytest

from insights.text import Analysis
from surveys.models import Answer, Question, Response
from surveys.services.analysis import (
    answers_pending_analysis,
    answers_record_analysis,
    response_record_analysis,
    responses_mark_for_analysis,
    responses_pending_analysis,
)
from surveys.services.responses import answer_save
from surveys.signals import response_analysed
from tests.factories import ResponseFactory

pytestmark = pytest.mark.django_db

READ = Analysis(
    language="fr",
    language_confidence=0.9,
    sentiment="negative",
    sentiment_confidence=0.82,
    themes=("delivery", "customer_service"),
)


@pytest.fixture
def analysed():
    calls = []

    def listener(sender, response_id, **kwargs):
        calls.append(response_id)

    response_analysed.connect(listener)
    yield calls
    response_analysed.disconnect(listener)


def test_response_record_analysis_stores_the_result_and_announces_it_after_commit(
    analysed, django_capture_on_commit_callbacks
):
    response = ResponseFactory(comment="Colis perdu, service client injoignable", analysis_pending=True)

    with django_capture_on_commit_callbacks(execute=True):
        changed = response_record_analysis(response_id=response.pk, comment=response.comment, result=READ)

    response.refresh_from_db()
    assert changed is True
    assert (response.language, response.sentiment, response.sentiment_confidence, response.themes) == (
        "fr",
        "negative",
        0.82,
        ["delivery", "customer_service"],
    )
    assert response.analysis_pending is False
    assert response.analysed_at is not None
    assert analysed == [response.pk]


def test_response_record_analysis_of_the_same_result_announces_nothing(analysed, django_capture_on_commit_callbacks):
    response = ResponseFactory(comment="Colis perdu", analysis_pending=True)
    response_record_analysis(response_id=response.pk, comment=response.comment, result=READ)
    analysed.clear()
    Response.objects.filter(pk=response.pk).update(analysis_pending=True)

    with django_capture_on_commit_callbacks(execute=True):
        changed = response_record_analysis(response_id=response.pk, comment=response.comment, result=READ)

    assert changed is False
    assert analysed == []
    assert Response.objects.get(pk=response.pk).analysis_pending is False


def test_response_record_analysis_drops_a_result_for_a_comment_that_changed_meanwhile(analysed):
    response = ResponseFactory(comment="Now it is fine", analysis_pending=True)

    changed = response_record_analysis(response_id=response.pk, comment="Colis perdu", result=READ)

    response.refresh_from_db()
    assert changed is False
    assert (response.sentiment, response.themes, response.analysis_pending) == ("", [], True)


def test_response_record_analysis_of_a_removed_comment_clears_the_fields():
    response = ResponseFactory(comment="Colis perdu")
    response_record_analysis(response_id=response.pk, comment=response.comment, result=READ)
    Response.objects.filter(pk=response.pk).update(comment="", analysis_pending=True)

    assert response_record_analysis(response_id=response.pk, comment="", result=None) is True

    response.refresh_from_db()
    assert (response.language, response.sentiment, response.sentiment_confidence, response.themes) == (
        "",
        "",
        None,
        [],
    )


def test_pending_responses_are_listed_oldest_first_up_to_the_limit():
    first, second, _third = (ResponseFactory(comment=f"c{i}") for i in range(3))
    assert responses_mark_for_analysis(response_ids=[second.pk, first.pk]) == 2

    assert [r.pk for r in responses_pending_analysis(limit=5)] == [first.pk, second.pk]
    assert [r.pk for r in responses_pending_analysis(limit=1)] == [first.pk]


def test_a_free_text_answer_is_flagged_for_reading_and_its_result_stored():
    response = ResponseFactory()
    free = Question.objects.create(survey=response.survey, kind="free_text", text={"en": "Why?"})
    scale = Question.objects.create(survey=response.survey, kind="scale", scale_max=5, text={"en": "How?"})
    text_answer = answer_save(response=response, question=free, value="Livraison en retard")
    answer_save(response=response, question=scale, value=["3"])

    assert [a.pk for a in answers_pending_analysis(limit=10)] == [text_answer.pk]
    assert answers_record_analysis(results=[(text_answer.pk, "Livraison en retard", READ)]) == 1
    text_answer.refresh_from_db()
    assert (text_answer.sentiment, text_answer.themes, text_answer.analysis_pending) == (
        "negative",
        ["delivery", "customer_service"],
        False,
    )


def test_an_answer_changed_since_it_was_read_stays_pending():
    response = ResponseFactory()
    free = Question.objects.create(survey=response.survey, kind="free_text", text={"en": "Why?"})
    answer = answer_save(response=response, question=free, value="Now fine")

    assert answers_record_analysis(results=[(answer.pk, "Livraison en retard", READ)]) == 0
    assert Answer.objects.get(pk=answer.pk).analysis_pending is True
