"""The routing rules' dry run: "which rules would this answer match, and why", for the console and the API.

A read: it opens, stores and sends nothing. Every rule is shown in the order routing tries them, each of
its conditions with whether the answer meets it, and which rule decides (the first active one that
matches, as `feedback.routing.choose_rule` picks it for a real answer).
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from feedback.models import RoutingRule
from feedback.routing import Check, ResponseFacts, RuleFacts, rule_checks
from surveys.models import Survey
from surveys.scales import SCALES


@dataclass(frozen=True)
class RoutingVerdict:
    rule: RoutingRule
    checks: list[Check]
    # Every condition holds and the rule is on.
    matches: bool
    # The first rule that matches: what routing would do with the answer.
    decides: bool
    # What the rule does with an answer it decides, in words.
    outcome: str


@dataclass(frozen=True)
class RoutingDryRun:
    verdicts: list[RoutingVerdict]
    decided_by: RoutingRule | None
    opens_follow_up: bool
    summary: str


def _outcome(rule: RoutingRule) -> str:
    if not rule.opens_follow_up:
        return _("opens no case")
    if rule.team_id is None:
        return _("opens no case (the rule has no team)")
    return _("opens a case for %(team)s (%(priority)s priority, SLA %(sla)s h)") % {
        "team": rule.team.name,
        "priority": rule.get_priority_display().lower(),
        "sla": rule.sla_hours or rule.team.sla_hours,
    }


def routing_answer_facts(
    *,
    survey: Survey,
    score: int,
    comment: str = "",
    contact_properties: dict | None = None,
    event_properties: dict | None = None,
    themes: tuple[str, ...] = (),
    sentiment: str = "",
) -> ResponseFacts:
    """An answer as routing reads it; a score off the survey's scale is a field error."""
    scale = SCALES[survey.kind]
    if score not in scale.scores:
        raise ValidationError(
            {
                "score": [
                    _("Give a score from %(low)s to %(high)s for this survey.") % {"low": scale.low, "high": scale.high}
                ]
            }
        )
    return ResponseFacts(
        survey_id=survey.pk,
        kind=survey.kind,
        score=score,
        comment=comment,
        contact_properties=contact_properties or {},
        event_properties=event_properties or {},
        themes=tuple(themes),
        sentiment=sentiment,
    )


def routing_rules_dry_run(*, facts: ResponseFacts) -> RoutingDryRun:
    """Each routing rule, in order, against `facts`: its conditions, whether it matches, which one decides."""
    verdicts, decided_by = [], None
    for rule in RoutingRule.objects.select_related("team", "survey").order_by("position", "pk"):
        checks = [Check(_("the rule is on"), rule.is_active), *rule_checks(facts, RuleFacts.of(rule))]
        matches = all(check.holds for check in checks)
        decides = matches and decided_by is None
        if decides:
            decided_by = rule
        verdicts.append(
            RoutingVerdict(rule=rule, checks=checks, matches=matches, decides=decides, outcome=_outcome(rule))
        )
    opens = decided_by is not None and RuleFacts.of(decided_by).opens_follow_up
    if decided_by is None:
        summary = _("No rule matches: no case is opened.")
    else:
        summary = _("Rule #%(position)s decides: it %(outcome)s.") % {
            "position": decided_by.position,
            "outcome": _outcome(decided_by),
        }
    return RoutingDryRun(verdicts=verdicts, decided_by=decided_by, opens_follow_up=opens, summary=summary)
