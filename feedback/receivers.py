from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from notifications.signals import inbound_sms_received, suppression_created
from surveys.signals import response_submitted, response_withdrawn


@receiver(response_submitted)
def open_follow_up_when_unhappy(sender, response_id: int, created: bool, changed=(), **kwargs) -> None:
    from feedback.tasks import open_follow_up

    open_follow_up.delay(response_id, created, list(changed))


@receiver(response_submitted)
def count_response_in_rollups(sender, response_id: int, created: bool, **kwargs) -> None:
    from feedback.dashboard_tasks import count_response

    count_response.delay(response_id)


@receiver(response_withdrawn)
def uncount_withdrawn_response(sender, response_id: int, **kwargs) -> None:
    from feedback.rollups import rollup_uncount_response

    rollup_uncount_response(response_id=response_id)


@receiver(inbound_sms_received)
def put_customer_sms_on_follow_up(sender, inbound_id: int, phone: str, body: str, **kwargs) -> None:
    from feedback.services import follow_up_record_customer_sms

    follow_up_record_customer_sms(phone=phone, body=body)


# The loop's rollups follow every saved change to a case, whichever service made it.
@receiver(post_save, sender="feedback.FollowUp")
def count_follow_up_in_rollups(sender, instance, raw: bool = False, **kwargs) -> None:
    from feedback.rollups import rollup_count_follow_up

    if not raw:
        rollup_count_follow_up(follow_up_id=instance.pk)


@receiver(post_save, sender="feedback.FollowUpEntry")
def count_first_contact_in_rollups(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    from feedback.rollups import rollup_count_follow_up

    if created and instance.author_id and not raw:
        rollup_count_follow_up(follow_up_id=instance.follow_up_id)


@receiver(post_save, sender="feedback.RoutingRule")
def mark_fix_check_survey(sender, instance, raw: bool = False, **kwargs) -> None:
    """A survey picked as a rule's "did we fix it?" survey is flagged, so the dashboard keeps its answers apart."""
    from surveys.services.fix_checks import survey_mark_fix_check

    if instance.fix_check_survey_id and not raw:
        survey_mark_fix_check(survey_id=instance.fix_check_survey_id)


@receiver(pre_delete, sender="feedback.FollowUp")
def uncount_deleted_follow_up(sender, instance, **kwargs) -> None:
    from feedback.rollups import rollup_uncount_follow_up

    rollup_uncount_follow_up(follow_up_id=instance.pk)


@receiver(response_submitted)
def announce_response_to_webhooks(sender, response_id: int, created: bool, **kwargs) -> None:
    from feedback.webhooks import webhooks_emit_response

    webhooks_emit_response(response_id=response_id, created=created)


@receiver(suppression_created)
def announce_unsubscribe_to_webhooks(sender, suppression_id: int, **kwargs) -> None:
    from feedback.webhooks import webhooks_emit_unsubscribe

    webhooks_emit_unsubscribe(suppression_id=suppression_id)
