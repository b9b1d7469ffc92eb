import pytest
from django.core.exceptions import ValidationError

from feedback.models import FollowUp
from feedback.routing_dry_run import routing_answer_facts, routing_rules_dry_run
from tests.factories import RoutingRuleFactory, SurveyFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules():
    """#1 is off; #2 sends refund complaints to Billing; #3 sends every unhappy answer to Care; #4 opens none."""
    survey = SurveyFactory(kind="nps", name="Delivery")
    care, billing = TeamFactory(name="Care", sla_hours=24), TeamFactory(name="Billing", sla_hours=24)
    return survey, [
        RoutingRuleFactory(position=1, team=care, is_active=False),
        RoutingRuleFactory(position=2, team=billing, comment_contains="refund", priority="high", sla_hours=8),
        RoutingRuleFactory(position=3, team=care, survey=survey),
        RoutingRuleFactory(position=4, team=None, opens_follow_up=False, score_min=9, score_max=10),
    ]


def test_the_first_active_matching_rule_decides_and_every_rule_says_why(rules):
    survey, (off, refunds, unhappy, promoters) = rules
    result = routing_rules_dry_run(facts=routing_answer_facts(survey=survey, score=2, comment="Where is my refund?"))

    assert (result.decided_by, result.opens_follow_up) == (refunds, True)
    assert result.summary == "Rule #2 decides: it opens a case for Billing (high priority, SLA 8 h)."
    verdicts = [(v.rule, v.matches, v.decides, [(c.condition, c.holds) for c in v.checks]) for v in result.verdicts]
    assert verdicts == [
        (off, False, False, [("the rule is on", False), ("the answer is unhappy (a detractor's)", True)]),
        (refunds, True, True, [
            ("the rule is on", True), ("the answer is unhappy (a detractor's)", True),
            ("comment contains “refund”", True),
        ]),
        (unhappy, True, False, [
            ("the rule is on", True), (f"survey is #{survey.pk}", True),
            ("the answer is unhappy (a detractor's)", True),
        ]),
        (promoters, False, False, [("the rule is on", True), ("score is 9–10", False)]),
    ]  # fmt: skip
    assert [v.outcome for v in result.verdicts] == [
        "opens a case for Care (normal priority, SLA 24 h)",
        "opens a case for Billing (high priority, SLA 8 h)",
        "opens a case for Care (normal priority, SLA 24 h)",
        "opens no case",
    ]
    assert FollowUp.objects.count() == 0


def test_a_matching_rule_that_opens_no_case_decides_too(rules):
    survey, (*_, promoters) = rules
    result = routing_rules_dry_run(facts=routing_answer_facts(survey=survey, score=10))
    assert (result.decided_by, result.opens_follow_up) == (promoters, False)
    assert result.summary == "Rule #4 decides: it opens no case."


def test_no_matching_rule_opens_no_case(rules):
    result = routing_rules_dry_run(facts=routing_answer_facts(survey=SurveyFactory(kind="nps"), score=8))
    assert (result.decided_by, result.opens_follow_up, result.summary) == (
        None,
        False,
        "No rule matches: no case is opened.",
    )


def test_a_score_off_the_survey_s_scale_is_a_field_error():
    with pytest.raises(ValidationError) as raised:
        routing_answer_facts(survey=SurveyFactory(kind="csat"), score=9)
    assert raised.value.message_dict == {"score": ["Give a score from 1 to 5 for this survey."]}
