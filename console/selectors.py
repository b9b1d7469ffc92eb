"""Reads of the console: the trigger rules' dry run ("which rules would this event match, and why"), and the
Slack channels a team may pick (asked of Slack when the team's page is shown).

Pure over the rules it reads: it schedules, stores and sends nothing. Fatigue, consent and sampling
depend on the contact and the moment, so the dry run names them without deciding them.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from integrations.slack import SlackChannel, SlackError, slack_channels, slack_uses_bot
from surveys.conditions import condition_holds
from surveys.models import TriggerRule


@dataclass(frozen=True)
class SlackChoices:
    """What a team's Slack field offers: whether there is a bot token, the channels Slack listed for it, and
    why there is no list when Slack could not give one."""

    uses_bot: bool
    channels: list[SlackChannel]
    problem: str = ""


def slack_choices() -> SlackChoices:
    if not slack_uses_bot():
        return SlackChoices(uses_bot=False, channels=[])
    try:
        return SlackChoices(uses_bot=True, channels=slack_channels())
    except SlackError as exc:
        return SlackChoices(uses_bot=True, channels=[], problem=str(exc))


@dataclass(frozen=True)
class RuleVerdict:
    rule: TriggerRule
    matches: bool
    reasons: list[str]


def _describe(condition: dict) -> str:
    return f"{condition.get('property')} {condition.get('op')} {condition.get('value', '')!r}".rstrip()


def trigger_rules_dry_run(*, event_type: str, properties: dict) -> list[RuleVerdict]:
    """Each trigger rule, whether an event of `event_type` with `properties` would match it, and why."""
    verdicts = []
    for rule in TriggerRule.objects.select_related("survey").order_by("event_type", "pk"):
        failed = []
        if rule.event_type != event_type:
            failed.append(
                _("waits for %(expected)s, not %(given)s") % {"expected": rule.event_type, "given": event_type}
            )
        if not rule.is_active:
            failed.append(_("is off"))
        if not rule.survey.is_active:
            failed.append(_("its survey %(survey)s is paused") % {"survey": rule.survey})
        reasons = list(failed)
        for condition in rule.conditions:
            values = {"condition": _describe(condition)}
            if condition_holds(condition, properties):
                reasons.append(_("%(condition)s: holds") % values)
            else:
                failed.append(_("%(condition)s: does not hold") % values)
                reasons.append(failed[-1])
        matches = not failed
        if matches and rule.sample_rate < 1:
            reasons.append(_("then asks %(percent)s%% of matching events") % {"percent": round(rule.sample_rate * 100)})
        verdicts.append(
            RuleVerdict(rule=rule, matches=matches, reasons=reasons or [_("no conditions: every such event")])
        )
    return verdicts
