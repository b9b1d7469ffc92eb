"""Periodic job of Delighted's Autopilot; calls one service and holds no rule of its own."""

from celery import shared_task

from delighted.services import autopilot_invite_due


@shared_task
def invite_due_autopilot_members() -> int:
    return autopilot_invite_due()
