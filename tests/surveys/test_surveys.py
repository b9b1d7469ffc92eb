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
