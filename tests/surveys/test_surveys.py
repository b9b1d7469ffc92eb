import pytest

from surveys.models import Survey
from surveys.services.surveys import survey_mark_fix_check
from tests.factories import SurveyFactory

pytestmark = pytest.mark.django_db


def test_survey_mark_fix_check_flags_only_that_survey():
    survey, other = SurveyFactory(), SurveyFactory()

    survey_mark_fix_check(survey_id=survey.pk)
    survey_mark_fix_check(survey_id=survey.pk)

    assert list(Survey.objects.filter(is_fix_check=True)) == [survey]
    other.refresh_from_db()
    assert other.is_fix_check is False


def test_a_survey_s_texts_fall_back_to_its_default_language_then_to_the_kind_s_wording():
    survey = Survey(
        kind="csat",
        default_locale="fr",
        question_text={"fr": "Comment était notre aide ?"},
        low_label={"fr": "Mauvais", "en": "Bad"},
        thank_you_text={"fr": "Merci !"},
    )

    assert survey.question("en") == "Comment était notre aide ?"
    assert survey.end_labels("en") == ("Bad", "Very satisfied")
    assert survey.end_labels("fr") == ("Mauvais", "Très satisfait")
    assert (survey.thank_you("en"), survey.thank_you("fr")) == ("Merci !", "Merci !")
    assert Survey(kind="csat").thank_you("fr") == ""


def test_a_question_s_text_and_options_fall_back_to_its_survey_s_default_language():
    survey = SurveyFactory(default_locale="fr")
    question = survey.questions.create(
        kind="select_one",
        text={"fr": "Pourquoi ?"},
        choices=[{"value": "slow", "fr": "Trop lent", "en": "Too slow"}, {"value": "rude", "fr": "Impoli"}],
    )

    assert question.text_in("en") == "Pourquoi ?"
    assert question.choice_labels("en") == [("slow", "Too slow"), ("rude", "Impoli")]
