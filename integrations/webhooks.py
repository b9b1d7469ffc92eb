"""Outgoing webhooks: record each event for every subscription that asked for it, sign and POST it, retry, replay.

Delivery rows are written in the transaction of the change (or right after the commit that announced
it) and handed to a worker after commit; a beat job hands over again the ones that are due or lost.
Never posts to a private, loopback or link-local address unless WEBHOOKS_ALLOW_PRIVATE_ADDRESSES is
set: checked when a subscription is saved, and at each attempt on the very address connected to, with
a total deadline and a cap on the answer's size (integrations/outbound.py, shared with Slack).
"""

import hashlib
import hmac
import json
import secrets
from datetime import timedelta

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from config.hand_over import hand_over_on_commit
from feedback.models import FollowUp
from integrations.models import WebhookDelivery, WebhookSubscription
from integrations.outbound import AddressRefused, outbound_post, url_check
from integrations.signals import webhook_secret_rotated
from notifications.models import Channel, Suppression
from surveys.delighted_json import response_json, suppression_json
from surveys.models import Contact, Response

SIGNATURE_HEADER = "X-Delighted-Webhook-Signature"
# Failed attempts are retried after 30 s, 1 min, 2 min… until the next one would fall past this window.
RETRY_WINDOW = timedelta(hours=24)
FIRST_RETRY_SECONDS = 30
SWEEP_BATCH = 500
ERROR_MAX_CHARS = 500
OPT_OUT_REASONS = (Suppression.Reason.UNSUBSCRIBE, Suppression.Reason.STOP)


# --- where we may post: integrations/outbound.py, shared with Slack --------------------------------------


def webhook_url_check(url: str) -> None:
    """Refuse, as a field error on `url`, a URL that resolves to an address Closeloop may not post to."""
    try:
        url_check(url)
    except AddressRefused as exc:
        raise ValidationError({"url": str(exc)}) from exc


def webhook_signature(secret: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of the raw body, as Delighted signs its webhooks."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_signature_header(subscription: WebhookSubscription, body: bytes, *, now) -> str:
    """One signature per secret that signs at `now`, comma-separated, the current secret's first.

    Outside a rotation's grace it is the single `sha256=<hex>` Delighted sends, so receivers written for
    Delighted keep working; during it a receiver checks whether any of the signatures is its own, as with
    Stripe's rolled secrets, and can switch to the new secret whenever it likes.
    """
    return ",".join(webhook_signature(secret, body) for secret in subscription.signing_secrets(now))


def webhook_body(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


# --- what we send ----------------------------------------------------------------------------------


def _response_event(response: Response) -> dict:
    data = response_json(response, expand=["person"])
    # Beyond Delighted's shape (receivers ignore keys they do not know): what was read in the comment,
    # null until read; a change of it is sent as survey_response.updated.
    data.update(
        language=response.language or None,
        sentiment=response.sentiment or None,
        sentiment_confidence=response.sentiment_confidence,
        themes=list(response.themes),
    )
    return {
        "event_data": data,
        "event_creator": {"type": "person", "id": str(response.contact_id)},
    }


def _unsubscribe_event(suppression: Suppression) -> dict:
    if suppression.channel == Channel.SMS:
        contact = Contact.objects.filter(phone=suppression.recipient).order_by("pk").first()
    else:
        contact = Contact.objects.filter(email__iexact=suppression.recipient).order_by("pk").first()
    data = suppression_json(suppression, contact, time_key="unsubscribed_at")
    if suppression.channel == Channel.SMS:
        data.update(email=(contact.email or None) if contact else None, phone_number=suppression.recipient)
    return {
        "event_data": data,
        "event_creator": {"type": "person", "id": str(contact.pk)} if contact else None,
    }


def follow_up_payload(follow_up: FollowUp) -> dict:
    return {
        "id": follow_up.pk,
        "response_id": follow_up.response_id,
        "team": follow_up.team.name,
        "assignee": follow_up.assignee.email if follow_up.assignee else None,
        "status": follow_up.status,
        "priority": follow_up.priority,
        "due_at": follow_up.due_at.isoformat(),
        "outcome": follow_up.outcome or None,
        "root_cause": follow_up.root_cause.name if follow_up.root_cause else None,
        "resolved_at": follow_up.resolved_at.isoformat() if follow_up.resolved_at else None,
    }


def _follow_up_event(follow_up: FollowUp) -> dict:
    return {"event_data": follow_up_payload(follow_up), "event_creator": None}


EVENT_BUILDERS = {
    WebhookSubscription.Event.SURVEY_RESPONSE_CREATED: _response_event,
    WebhookSubscription.Event.SURVEY_RESPONSE_UPDATED: _response_event,
    WebhookSubscription.Event.UNSUBSCRIBE_CREATED: _unsubscribe_event,
    WebhookSubscription.Event.FOLLOW_UP_CREATED: _follow_up_event,
    WebhookSubscription.Event.FOLLOW_UP_UPDATED: _follow_up_event,
    WebhookSubscription.Event.FOLLOW_UP_RESOLVED: _follow_up_event,
    WebhookSubscription.Event.SURVEY_RESPONSE_DELETED: _response_event,
    WebhookSubscription.Event.FOLLOW_UP_WITHDRAWN: _follow_up_event,
}


def _enqueue_on_commit(delivery_ids: list[int]) -> None:
    """Hand the deliveries to workers once the transaction commits.

    With the broker down the change still stands (robust: the commit hooks after this one, such as the case's
    rollup count, still run) and the deliveries are marked not handed over, so the beat job hands them over
    at its first run after the broker is back rather than a lease later. A task taken twice sends once: an
    attempt claims its delivery first.
    """
    from integrations.tasks import deliver_webhook  # the task module imports this one

    def not_handed_over(ids: list[int]) -> None:
        WebhookDelivery.objects.filter(pk__in=ids, status=WebhookDelivery.Status.PENDING).update(enqueued_at=None)

    hand_over_on_commit(deliver_webhook, delivery_ids, what="webhook deliveries", refused=not_handed_over)


def webhooks_emit(event_type: str, subject: Response | Suppression | FollowUp) -> list[WebhookDelivery]:
    """Record one event about `subject` for every active subscription to `event_type`; each is sent after commit.

    Call it inside the transaction of the change, so the event exists exactly when the change does.
    """
    subscriptions = [s for s in WebhookSubscription.objects.filter(is_active=True) if event_type in s.events]
    if not subscriptions:
        return []
    event_id = secrets.token_hex(32)
    payload = {"event_type": event_type, "event_id": event_id, **EVENT_BUILDERS[event_type](subject)}
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            subscription=subscription,
            event_type=event_type,
            event_id=event_id,
            payload=payload,
            next_attempt_at=now,
            enqueued_at=now,
        )
        for subscription in subscriptions
    )
    _enqueue_on_commit([delivery.pk for delivery in deliveries])
    return deliveries


def webhooks_emit_response(*, response_id: int, created: bool) -> list[WebhookDelivery]:
    response = (
        Response.objects.select_related("survey", "contact", "invitation")
        .prefetch_related("answers__question")
        .filter(pk=response_id)
        .first()
    )
    if response is None:  # withdrawn (a link scanner's) before this ran
        return []
    event = "survey_response.created" if created else "survey_response.updated"
    with transaction.atomic():
        return webhooks_emit(event, response)


def webhooks_emit_follow_up(*, follow_up_id: int, event: str) -> list[WebhookDelivery]:
    """A case's change, announced by feedback after it committed; the payload is the case as it is now."""
    follow_up = FollowUp.objects.select_related("team", "assignee", "root_cause").filter(pk=follow_up_id).first()
    if follow_up is None:  # deleted with its response before this ran
        return []
    with transaction.atomic():
        return webhooks_emit(event, follow_up)


def webhooks_emit_unsubscribe(*, suppression_id: int) -> list[WebhookDelivery]:
    """A customer's own opt-out (unsubscribe link, STOP, provider unsubscribe); bounces are not unsubscribes."""
    suppression = Suppression.objects.filter(pk=suppression_id, reason__in=OPT_OUT_REASONS).first()
    if suppression is None:
        return []
    with transaction.atomic():
        return webhooks_emit("unsubscribe.created", suppression)


# --- sending ---------------------------------------------------------------------------------------


def _record_outcome(delivery: WebhookDelivery, *, status: str, **fields) -> WebhookDelivery:
    fields["status"] = status
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.SENDING).update(**fields)
    delivery.refresh_from_db()
    return delivery


def _retry_or_fail(delivery: WebhookDelivery, *, error: str, response_code: int | None) -> WebhookDelivery:
    now = timezone.now()
    next_attempt_at = now + timedelta(seconds=FIRST_RETRY_SECONDS * 2 ** (delivery.attempts - 1))
    if next_attempt_at > delivery.created_at + RETRY_WINDOW:
        return _record_outcome(
            delivery, status=WebhookDelivery.Status.FAILED, error=error[:ERROR_MAX_CHARS], response_code=response_code
        )
    return _record_outcome(
        delivery,
        status=WebhookDelivery.Status.PENDING,
        error=error[:ERROR_MAX_CHARS],
        response_code=response_code,
        next_attempt_at=next_attempt_at,
        enqueued_at=None,
    )


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """POST one due delivery; None when it is not due or another worker has it (a repeated task sends nothing)."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).update(status=WebhookDelivery.Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    if not subscription.is_active:
        return _record_outcome(delivery, status=WebhookDelivery.Status.FAILED, error="The subscription is inactive.")
    body = webhook_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Closeloop-Webhooks/1.0",
        SIGNATURE_HEADER: webhook_signature_header(subscription, body, now=timezone.now()),
    }
    try:
        response = outbound_post(subscription.url, body, headers)
    except AddressRefused as exc:
        return _record_outcome(delivery, status=WebhookDelivery.Status.FAILED, error=str(exc))
    except requests.RequestException as exc:
        return _retry_or_fail(delivery, error=f"{type(exc).__name__}: {exc}", response_code=None)
    if 200 <= response.status_code < 300:
        return _record_outcome(
            delivery,
            status=WebhookDelivery.Status.DELIVERED,
            response_code=response.status_code,
            error="",
            delivered_at=timezone.now(),
        )
    return _retry_or_fail(delivery, error=f"HTTP {response.status_code}", response_code=response.status_code)


def webhook_deliveries_sweep(*, now=None) -> dict[str, int]:
    """Beat job: hand due retries to workers, and take back attempts whose worker died."""
    now = now or timezone.now()
    # An attempt still `sending`, or a delivery handed over and not claimed, this long after lost its worker or
    # its task (Redis restarted empty): far above an attempt's deadline, so no attempt in progress is taken over.
    lease = timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    requeued = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.SENDING, last_attempt_at__lt=now - lease
    ).update(
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at=now,
        enqueued_at=None,
        error="The worker stopped during the attempt.",
    )
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - lease))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        WebhookDelivery.objects.filter(pk__in=due).update(enqueued_at=now)
        _enqueue_on_commit(due)
    return {"requeued": requeued, "enqueued": len(due)}


@transaction.atomic
def webhook_delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's event again as a new delivery (same event id and body), with a fresh retry window."""
    now = timezone.now()
    replay = WebhookDelivery.objects.create(
        subscription=delivery.subscription,
        event_type=delivery.event_type,
        event_id=delivery.event_id,
        payload=delivery.payload,
        next_attempt_at=now,
        enqueued_at=now,
        replay_of=delivery,
    )
    _enqueue_on_commit([replay.pk])
    return replay


# --- subscriptions ---------------------------------------------------------------------------------


def webhook_secret_new() -> str:
    return secrets.token_hex(32)


@transaction.atomic
def webhook_subscription_secret_rotate(*, subscription: WebhookSubscription, actor=None) -> WebhookSubscription:
    """Give the subscription a new secret; the one it replaces signs too for WEBHOOK_SECRET_ROTATION_HOURS.

    Rotating again within the grace drops the oldest: a delivery carries at most two signatures. The caller shows
    the new secret once; `webhook_secret_rotated` lets the audit trail record the rotation (never the secret).
    """
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    expired_before = subscription.previous_secret_expires_at
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = timezone.now() + timedelta(hours=settings.WEBHOOK_SECRET_ROTATION_HOURS)
    subscription.secret = webhook_secret_new()
    subscription.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    webhook_secret_rotated.send(
        sender=WebhookSubscription,
        subscription=subscription,
        previous_secret_expires_at=expired_before,
        actor=actor,
    )
    return subscription


def webhook_events_check(events: list) -> None:
    unknown = sorted({str(event) for event in events} - set(WebhookSubscription.Event.values))
    if not events or unknown:
        raise ValidationError(
            {
                "events": _("Choose event types from %(choices)s.")
                % {"choices": ", ".join(WebhookSubscription.Event.values)}
            }
        )


@transaction.atomic
def webhook_subscription_save(*, subscription: WebhookSubscription | None = None, **fields) -> WebhookSubscription:
    """Create (no `subscription`) or change one; the URL and events are checked, a missing secret is made up."""
    subscription = subscription or WebhookSubscription()
    for name, value in fields.items():
        setattr(subscription, name, value)
    subscription.secret = subscription.secret or webhook_secret_new()
    errors = {}
    for check, value in ((webhook_url_check, subscription.url), (webhook_events_check, subscription.events)):
        try:
            check(value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    subscription.save()
    return subscription
