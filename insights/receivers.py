"""The rollups follow the apps below: an answer counted or withdrawn, a case changed or deleted."""

from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from insights.rollups import rollup_count_follow_up, rollup_uncount_follow_up, rollup_uncount_response
from insights.tasks import count_response
from surveys.signals import response_submitted, response_withdrawn


@receiver(response_submitted)
def count_response_in_rollups(sender, response_id: int, created: bool, **kwargs) -> None:
    count_response.delay(response_id)


@receiver(response_withdrawn)
def uncount_withdrawn_response(sender, response_id: int, **kwargs) -> None:
    rollup_uncount_response(response_id=response_id)


# The loop's rollups follow every saved change to a case, whichever service made it.
@receiver(post_save, sender="feedback.FollowUp")
def count_follow_up_in_rollups(sender, instance, raw: bool = False, **kwargs) -> None:
    if not raw:
        rollup_count_follow_up(follow_up_id=instance.pk)


@receiver(post_save, sender="feedback.FollowUpEntry")
def count_first_contact_in_rollups(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and instance.author_id and not raw:
        rollup_count_follow_up(follow_up_id=instance.follow_up_id)


@receiver(pre_delete, sender="feedback.FollowUp")
def uncount_deleted_follow_up(sender, instance, **kwargs) -> None:
    rollup_uncount_follow_up(follow_up_id=instance.pk)
