"""The "did we fix it?" survey of a resolution: schedule it, and withdraw it when the resolution is undone.

Schedules through `surveys.services.scheduling` like any invitation; the answer coming back is
`feedback.services.answers`' to record.
"""

from feedback.models import FixCheck, FollowUp, FollowUpEntry, RoutingRule
from feedback.services.replies import follow_up_reply_channel
from feedback.services.timeline import entry_add_line
from surveys.services.scheduling import SkipReason, invitation_cancel_unsent, invitation_schedule

# "Did we fix it?" asks someone we reached; an unreachable customer is not asked.
FIX_CHECK_OUTCOMES = (FollowUp.Outcome.RECOVERED, FollowUp.Outcome.NOT_RECOVERED)

# Why a "did we fix it?" invitation was withdrawn before it went out (Invitation.cancel_reason).
FIX_CHECK_CANCEL_REASON = "case_reopened"


def fix_check_send(follow_up: FollowUp) -> FixCheck | None:
    """Schedule the rule's "did we fix it?" survey for this resolution, on the channel the customer answered by.

    Consent and the SMS send window apply as to any invitation; the contact-pressure window does
    not, since the customer is waiting to hear whether their problem is solved.
    """
    rule = RoutingRule.objects.filter(pk=follow_up.rule_id).select_related("fix_check_survey").first()
    survey = rule.fix_check_survey if rule else None
    if survey is None or follow_up.outcome not in FIX_CHECK_OUTCOMES:
        return None
    channel, _ = follow_up_reply_channel(follow_up)
    answered = follow_up.response.invitation
    outcome = invitation_schedule(
        contact=follow_up.response.contact,
        survey=survey,
        channel_choice=channel,
        properties={**answered.properties, "locale": answered.locale},
        fatigue_exempt=True,
    )
    if outcome.invitation is None:
        wording = "fix_check_opted_out" if outcome.skipped == SkipReason.OPTED_OUT else "fix_check_no_address"
        entry_add_line(follow_up, FollowUpEntry.Kind.FIX_CHECK_SENT, wording, channel=str(channel))
        return None
    fix_check = FixCheck.objects.create(
        follow_up=follow_up, invitation=outcome.invitation, resolved_at=follow_up.resolved_at
    )
    entry_add_line(
        follow_up, FollowUpEntry.Kind.FIX_CHECK_SENT, "fix_check_sent", survey=str(survey), channel=str(channel)
    )
    return fix_check


def fix_checks_withdraw(follow_up: FollowUp) -> None:
    """Withdraw the "did we fix it?" survey of the case's current resolution if it has not gone out,
    so nobody is asked about a resolution that no longer stands."""
    undone_checks = FixCheck.objects.filter(follow_up=follow_up, resolved_at=follow_up.resolved_at)
    for invitation_id in undone_checks.values_list("invitation_id", flat=True):
        invitation_cancel_unsent(invitation_id=invitation_id, reason=FIX_CHECK_CANCEL_REASON)
