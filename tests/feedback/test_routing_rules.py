import pytest

from feedback.services.routing_rules import routing_rule_save
from surveys.models import Survey
from tests.factories import RoutingRuleFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def test_a_survey_picked_as_a_rules_fix_check_is_flagged_and_stays_flagged():
    fix_check, other = SurveyFactory(), SurveyFactory()
    rule = RoutingRuleFactory(survey=other)
    assert list(Survey.objects.filter(is_fix_check=True)) == []

    rule.fix_check_survey = fix_check
    routing_rule_save(rule=rule)
    rule.fix_check_survey = None
    routing_rule_save(rule=rule)

    assert list(Survey.objects.filter(is_fix_check=True)) == [fix_check]


def test_saving_a_rule_in_the_admin_flags_its_fix_check_survey(client, manager):
    fix_check = SurveyFactory()
    rule = RoutingRuleFactory()
    client.force_login(manager)

    page = client.get(f"/admin/feedback/routingrule/{rule.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(fix_check_survey=fix_check.pk)
    response = client.post(f"/admin/feedback/routingrule/{rule.pk}/change/", data)

    assert response.status_code == 302
    assert list(Survey.objects.filter(is_fix_check=True)) == [fix_check]
