"""Periodic jobs of the survey side; each calls one service and holds no rule of its own."""

from celery import shared_task

from surveys.services.dispatch import invitations_dispatch_due, invitations_remind_due
from surveys.services.idempotency import idempotency_keys_prune


@shared_task
def dispatch_due_invitations() -> int:
    return invitations_dispatch_due()


@shared_task
def remind_due_invitations() -> int:
    return invitations_remind_due()


@shared_task
def prune_idempotency_keys() -> int:
    return idempotency_keys_prune()
