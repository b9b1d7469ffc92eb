"""A person's erasure and export, for what left (or was to leave) for other systems about them, and what came from
them: the payloads of outgoing webhook deliveries, the notes for Zendesk tickets quoting their answers, and the
bodies of the connectors' deliveries that spoke of them.

Runs inside the erasure's transaction (`surveys.signals.contact_erasing`). A delivery about the person keeps its
subscription, event type, event id, status and times (what a receiver's operator needs to reconcile), but its
payload becomes `{"event_type", "event_id", "erased": true}`; one not yet delivered is not sent any more.
What a receiver already got, and what Slack shows, are out of Closeloop's reach (docs/privacy.md).
"""

from collections import Counter

from django.db.models import Q
from django.utils import timezone

from integrations.connectors import connector_payloads_erase
from integrations.models import ConnectorDelivery, WebhookDelivery, WebhookSubscription, ZendeskNote
from surveys.models import Contact
from surveys.services.privacy import ErasureSubject

ERASED_ERROR = "Not sent: the person it was about was erased."


def _about(subject: ErasureSubject) -> Q:
    """Deliveries about the person: created by them (answers, opt-outs), about their answers' cases, or an
    opt-out of one of their addresses when no contact was known for it."""
    about = Q(payload__event_creator__id=str(subject.contact_id))
    if subject.response_ids:
        about |= Q(payload__event_data__response_id__in=list(subject.response_ids))
        about |= Q(payload__event_data__id__in=[str(pk) for pk in subject.response_ids])
    unsubscribes = Q(event_type=WebhookSubscription.Event.UNSUBSCRIBE_CREATED)
    if subject.emails:
        about |= unsubscribes & Q(payload__event_data__email__in=[email.lower() for email in subject.emails])
    if subject.phones:
        about |= unsubscribes & Q(payload__event_data__phone_number__in=list(subject.phones))
    return about


def integrations_erase(*, subject: ErasureSubject, rows: Counter) -> None:
    webhook_deliveries_erase(subject=subject, rows=rows)
    # A note not yet written on its Zendesk ticket is not written any more; a written one stays at Zendesk.
    notes = ZendeskNote.objects.filter(response_id__in=subject.response_ids)
    notes.filter(status=ZendeskNote.Status.PENDING).update(status=ZendeskNote.Status.FAILED, error=ERASED_ERROR)
    rows["Zendesk notes"] += notes.exclude(body="").update(body="")
    # Their contact still holds their addresses here (surveys blanks it after the apps above).
    rows["connector deliveries"] += connector_payloads_erase(contact=Contact.objects.get(pk=subject.contact_id))


def webhook_deliveries_erase(*, subject: ErasureSubject, rows: Counter) -> None:
    deliveries = WebhookDelivery.objects.filter(_about(subject))
    unsent = [WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING]
    deliveries.filter(status__in=unsent).update(
        status=WebhookDelivery.Status.FAILED, error=ERASED_ERROR, next_attempt_at=timezone.now()
    )
    erased = 0
    for pk, event_type, event_id in deliveries.values_list("pk", "event_type", "event_id"):
        erased += WebhookDelivery.objects.filter(pk=pk).update(
            payload={"event_type": event_type, "event_id": event_id, "erased": True}
        )
    rows["webhook deliveries"] += erased


def integrations_export(*, contact_id: int, response_ids: list[int]) -> dict:
    """What went out about the person (webhook deliveries, Zendesk notes) and what connectors brought in about
    them (the deliveries that became their events)."""
    connector_deliveries = (
        ConnectorDelivery.objects.filter(event__contact_id=contact_id).select_related("connector").order_by("pk")
    )
    notes = ZendeskNote.objects.filter(response_id__in=response_ids).order_by("pk")
    return {
        **webhook_deliveries_export(contact_id=contact_id, response_ids=response_ids),
        "connector_deliveries": [
            {
                "from": delivery.connector.name,
                "topic": delivery.topic,
                "status": delivery.status,
                "received_at": delivery.received_at.isoformat(),
                "payload": delivery.payload,
            }
            for delivery in connector_deliveries
        ],
        "zendesk_notes": [
            {
                "ticket": note.ticket_id,
                "body": note.body,
                "status": note.status,
                "created_at": note.created_at.isoformat(),
            }
            for note in notes
        ],
    }


def webhook_deliveries_export(*, contact_id: int, response_ids: list[int]) -> dict:
    """Which deliveries told other systems about the person: to whom, what, when and how it went."""
    subject = ErasureSubject(contact_id, (), (), (), (), tuple(response_ids), (), False)
    deliveries = WebhookDelivery.objects.filter(_about(subject)).select_related("subscription").order_by("pk")
    return {
        "webhook_deliveries": [
            {
                "to": delivery.subscription.name,
                "event_type": delivery.event_type,
                "status": delivery.status,
                "created_at": delivery.created_at.isoformat(),
                "payload": delivery.payload,
            }
            for delivery in deliveries
        ]
    }
