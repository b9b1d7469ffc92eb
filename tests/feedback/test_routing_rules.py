import pytest

from surveys.models import Survey
from tests.factories import RoutingRuleFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def test_a_survey_picked_as_a_rules_fix_check_is_flagged_and_stays_flagged():
    fix_check, other = SurveyFactory(), SurveyFactory()
    rule = RoutingRuleFactory(survey=other)
    assert list(Survey.objects.filter(is_fix_check=True)) == []

    rule.fix_check_survey = fix_check
    rule.save()
    rule.fix_check_survey = None
    rule.save()

    assert list(Survey.objects.filter(is_fix_check=True)) == [fix_check]
