"""Routing rules' writes (the admin, the demo): a rule that picks a "did we fix it?" survey flags that survey."""

from django.db import transaction

from feedback.models import RoutingRule
from surveys.services.surveys import survey_mark_fix_check


@transaction.atomic
def routing_rule_save(*, rule: RoutingRule) -> RoutingRule:
    """Save the rule; a survey picked as its "did we fix it?" survey is flagged, so the dashboard keeps its
    answers apart (the flag stays when the rule stops using it: its answers so far still are such answers)."""
    rule.save()
    if rule.fix_check_survey_id:
        survey_mark_fix_check(survey_id=rule.fix_check_survey_id)
    return rule
