"""Celery entry points of the loop; each calls one `feedback.services` function.

Tasks take ids and plain values only; they hold no business rule.
"""

from celery import shared_task

from feedback.services.answers import follow_up_open_for_response
from feedback.services.sla import follow_ups_escalate


@shared_task
def open_follow_up(response_id: int, created: bool = True, changed: list[str] | None = None) -> None:
    # `changed` is absent from tasks queued before comments were announced: those were score changes.
    follow_up_open_for_response(response_id=response_id, created=created, changed=tuple(changed or ("score",)))


@shared_task
def escalate_follow_ups() -> dict[str, int]:
    """Beat job: SLA reminders and escalations that have come due."""
    return follow_ups_escalate()
