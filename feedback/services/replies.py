"""Two-way replies: an agent's reply to the customer on the channel they answered by, and the customer's SMS back.

Sends only through `notifications.services.queue.message_queue`.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from feedback.models import OPEN_STATUSES, FollowUp, FollowUpEntry, User
from feedback.services.notices import follow_up_announce
from feedback.services.timeline import entry_add
from notifications.models import Channel
from notifications.selectors import recipient_is_contactable
from notifications.services.queue import message_queue


def follow_up_reply_channel(follow_up: FollowUp) -> tuple[str, str]:
    """The channel the customer answered on and their address there."""
    contact = follow_up.response.contact
    channel = follow_up.response.invitation.channel if follow_up.response.invitation_id else Channel.EMAIL
    return channel, contact.phone if channel == Channel.SMS else contact.email


@transaction.atomic
def follow_up_reply(*, follow_up: FollowUp, author: User, body: str) -> FollowUpEntry:
    """Reply to the customer on the channel they answered on, unless they opted out there."""
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write the reply before sending it."})
    channel, recipient = follow_up_reply_channel(follow_up)
    if not recipient or not recipient_is_contactable(channel=channel, recipient=recipient):
        raise ValidationError({"body": f"The customer cannot be contacted by {channel}: no address or opted out."})
    message = message_queue(
        channel=channel,
        recipient=recipient,
        subject=f"About your feedback on {follow_up.response.survey.product_name}" if channel == Channel.EMAIL else "",
        body_text=body,
    )
    entry = entry_add(follow_up, FollowUpEntry.Kind.REPLY, author=author, body=body, message=message)
    if follow_up.status in (FollowUp.Status.NEW, FollowUp.Status.IN_PROGRESS):
        follow_up.status = FollowUp.Status.WAITING
        follow_up.save(update_fields=["status", "updated_at"])
    follow_up_announce(follow_up, "follow_up.updated")
    return entry


@transaction.atomic
def follow_up_record_customer_sms(*, phone: str, body: str) -> FollowUpEntry | None:
    """Put a customer's SMS on their most recent open SMS case's timeline, if they have one."""
    follow_up = (
        FollowUp.objects.select_for_update()
        .filter(status__in=OPEN_STATUSES, response__contact__phone=phone, response__invitation__channel=Channel.SMS)
        .order_by("-created_at", "-pk")
        .first()
    )
    if follow_up is None:
        return None
    entry = entry_add(follow_up, FollowUpEntry.Kind.CUSTOMER_REPLY, body=body)
    if follow_up.status == FollowUp.Status.WAITING:
        follow_up.status = FollowUp.Status.IN_PROGRESS
        follow_up.save(update_fields=["status", "updated_at"])
    follow_up_announce(follow_up, "follow_up.updated")
    return entry
