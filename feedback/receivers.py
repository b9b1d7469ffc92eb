"""What `feedback` does when the apps below it speak: open a case for an answer, put a customer's SMS or email on
their case."""

from django.dispatch import receiver

from feedback.services.answers import follow_up_open_for_response
from feedback.services.conversation import follow_up_record_inbound_email, follow_up_record_inbound_sms
from feedback.services.erasure import follow_ups_erase, follow_ups_export
from feedback.tasks import open_follow_up
from notifications.signals import inbound_email_received, inbound_sms_received
from surveys.signals import (
    contact_erasing,
    contact_exporting,
    response_analysed,
    response_submitted,
    response_withdrawn,
)


@receiver(response_submitted)
def open_follow_up_when_unhappy(sender, response_id: int, created: bool, changed=(), **kwargs) -> None:
    # Runs in the announcement's transaction (surveys.services.announcements): the case commits with it, once.
    follow_up_open_for_response(response_id=response_id, created=created, changed=tuple(changed) or ("score",))


@receiver(response_analysed)
def route_again_when_comment_read(sender, response_id: int, **kwargs) -> None:
    """Rules on a comment's theme or sentiment can only match once it is read: route the answer again then."""
    from feedback.models import RoutingRule

    if RoutingRule.objects.filter(is_active=True).exclude(theme="", sentiment="").exists():
        open_follow_up.delay(response_id, False, ["analysis"])


@receiver(response_withdrawn)
def announce_withdrawn_response(sender, response_id: int, **kwargs) -> None:
    from feedback.withdrawals import response_withdrawal_announce

    response_withdrawal_announce(response_id=response_id)


@receiver(inbound_sms_received)
def put_customer_sms_on_follow_up(
    sender, inbound_id: int, phone: str, body: str, thread: str = "", channel: str = "sms", **kwargs
) -> None:
    follow_up_record_inbound_sms(phone=phone, body=body, thread=thread, channel=channel)


@receiver(inbound_email_received)
def put_customer_email_on_follow_up(sender, inbound_id: int, thread: str, body: str, received_at=None, **kwargs):
    follow_up_record_inbound_email(thread=thread, body=body, received_at=received_at)


@receiver(contact_erasing)
def erase_follow_ups(sender, subject, rows, **kwargs) -> None:
    follow_ups_erase(subject=subject, rows=rows)


@receiver(contact_exporting)
def export_follow_ups(sender, contact, response_ids, **kwargs) -> dict:
    return follow_ups_export(response_ids=response_ids)
