"""The rollups follow the apps below: an answer counted or withdrawn, a case changed or deleted."""

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from feedback.signals import follow_up_changed
from insights.erasure import rollups_erase
from insights.rollups import (
    rollup_count_follow_up,
    rollup_count_response,
    rollup_uncount_follow_up,
    rollup_uncount_response,
)
from insights.theme_rollups import rollup_count_themes, rollup_uncount_themes
from surveys.services.analysis import responses_mark_for_analysis
from surveys.signals import contact_erasing, response_submitted, response_withdrawn


@receiver(response_submitted)
def count_response_in_rollups(sender, response_id: int, created: bool, **kwargs) -> None:
    # Runs in the announcement's transaction (surveys.services.announcements): counted with it, once.
    rollup_count_response(response_id=response_id)


@receiver(response_withdrawn)
def uncount_withdrawn_response(sender, response_id: int, **kwargs) -> None:
    rollup_uncount_response(response_id=response_id)
    rollup_uncount_themes(response_id=response_id)


@receiver(response_submitted)
def read_comment_again(sender, response_id: int, created: bool, changed=(), **kwargs) -> None:
    """A new or changed comment is flagged; the beat job `analyse-pending-comments` reads it (no work here)."""
    if created or "comment" in changed:
        responses_mark_for_analysis(response_ids=[response_id])
    if "score" in changed:
        rollup_count_themes(response_id=response_id)  # its themes' counts move to the new score


@receiver(follow_up_changed)
def count_changed_follow_up(sender, follow_up_id: int, **kwargs) -> None:
    """Each service that changes a case announces it once, after commit: the case moves to its bucket now."""
    rollup_count_follow_up(follow_up_id=follow_up_id)


# Cases are deleted with their response or contact (a link scanner's answer, a data-deletion request) by the
# database's cascade, with no service of ours running: Django's pre_delete is the one moment they still exist.
@receiver(pre_delete, sender="feedback.FollowUp")
def uncount_deleted_follow_up(sender, instance, **kwargs) -> None:
    rollup_uncount_follow_up(follow_up_id=instance.pk)


@receiver(contact_erasing)
def forget_erased_contact(sender, subject, rows, **kwargs) -> None:
    """A person is erased: their answers leave the buckets a recomputation would no longer put them in."""
    rollups_erase(subject=subject, rows=rows)
