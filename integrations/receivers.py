"""What leaves for other systems when the apps below speak: webhooks (answers, unsubscribes, cases), Slack,
notes on Zendesk tickets."""

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from feedback.models import FollowUp
from feedback.signals import agents_notified, follow_up_changed
from integrations.connectors import connector_payloads_erase
from integrations.erasure import integrations_erase, integrations_export
from integrations.slack import slack_text, slack_uses_bot
from integrations.tasks import post_to_slack, post_to_slack_channel
from integrations.webhooks import (
    webhooks_emit,
    webhooks_emit_follow_up,
    webhooks_emit_response,
    webhooks_emit_unsubscribe,
)
from integrations.zendesk import zendesk_note_record
from notifications.signals import suppression_created
from surveys.models import Contact, Response
from surveys.signals import (
    contact_erasing,
    contact_exporting,
    response_analysed,
    response_submitted,
    response_withdrawn,
)


@receiver(response_submitted)
def announce_response_to_webhooks(sender, response_id: int, created: bool, **kwargs) -> None:
    webhooks_emit_response(response_id=response_id, created=created)


@receiver(pre_delete, sender=Contact)
def erase_connector_payloads(sender, instance: Contact, **kwargs) -> None:
    """A contact erased (a data-deletion request) leaves nothing of theirs in connectors' delivery logs."""
    connector_payloads_erase(contact=instance)


@receiver(response_submitted)
def write_answer_to_zendesk(sender, response_id: int, created: bool, changed=(), **kwargs) -> None:
    """An answer to a survey a Zendesk connector started goes back to its ticket as an internal note."""
    zendesk_note_record(response_id=response_id, created=created, changed=tuple(changed or ()))


@receiver(response_analysed)
def announce_analysis_to_webhooks(sender, response_id: int, **kwargs) -> None:
    """What was read in the comment (language, sentiment, themes) changed: receivers get the response again."""
    webhooks_emit_response(response_id=response_id, created=False)


@receiver(suppression_created)
def announce_unsubscribe_to_webhooks(sender, suppression_id: int, **kwargs) -> None:
    webhooks_emit_unsubscribe(suppression_id=suppression_id)


@receiver(follow_up_changed)
def announce_follow_up_to_webhooks(sender, follow_up_id: int, event: str, **kwargs) -> None:
    webhooks_emit_follow_up(follow_up_id=follow_up_id, event=event)


@receiver(agents_notified)
def post_notice_to_slack(sender, follow_up, headline: str, url: str, **kwargs) -> None:
    """To the team's picked channel with the bot token when both are set, else through its incoming webhook."""
    team = follow_up.team
    text = slack_text(headline=headline, case_id=follow_up.pk, score=follow_up.response.score, url=url)
    if team.slack_channel_id and slack_uses_bot():
        post_to_slack_channel.delay(team.slack_channel_id, text)
    elif team.slack_webhook_url:
        post_to_slack.delay(team.slack_webhook_url, text)


@receiver(response_withdrawn)
def announce_withdrawal_to_webhooks(sender, response_id: int, **kwargs) -> None:
    """Sent inside the transaction that deletes the answer, before it is gone: receivers that heard of it
    (and of the case it opened) hear it was withdrawn (a mail scanner's, not the customer's)."""
    response = Response.objects.select_related("survey", "contact", "invitation").filter(pk=response_id).first()
    if response is None:
        return
    webhooks_emit("survey_response.deleted", response)
    follow_up = FollowUp.objects.select_related("team", "assignee", "response").filter(response=response).first()
    if follow_up is not None:
        webhooks_emit("follow_up.withdrawn", follow_up)


@receiver(contact_erasing)
def erase_what_went_out_or_came_in(sender, subject, rows, **kwargs) -> None:
    integrations_erase(subject=subject, rows=rows)


@receiver(contact_exporting)
def export_what_went_out_or_came_in(sender, contact, response_ids, **kwargs) -> dict:
    return integrations_export(contact_id=contact.pk, response_ids=response_ids)
