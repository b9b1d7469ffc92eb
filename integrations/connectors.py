"""Connectors: other systems post their events to Closeloop, and each verified delivery becomes an intake event.

- Receiving (`connector_delivery_receive`, the view's one call): the source's signature is checked on the
  raw body (integrations/connector_signatures.py); a refused delivery stores nothing but the connector's
  refusal count and reason. A verified one is stored once per source delivery id (a replay is answered 200
  and stores nothing) and handed to a worker after commit, so the source gets its 2xx at once (Shopify
  waits 5 seconds at most).
- Processing (`connector_delivery_process`, in a worker): the body is mapped to an event
  (integrations/connector_mapping.py), checked by the same validation as `POST /api/events/`, and ingested
  with the connector as its source; the delivery records what it became, or why nothing.
- A test delivery (`connector_test_delivery`) signs a sample body with the connector's secret, verifies and
  maps it, and says which trigger rules it would match: nothing is ingested, no one is invited.
- Payloads leave with retention (integrations/retention.py) and with their contact (`connector_payloads_erase`,
  when a contact is deleted).
"""

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError as ApiValidationError

from config.hand_over import hand_over_on_commit
from config.parsers import loads_strict
from integrations import connector_samples
from integrations.connector_mapping import (
    DEFAULT_EVENT_TYPES,
    MAPPERS,
    Ignored,
    Mapped,
    field_map_errors,
    pointer_resolve,
)
from integrations.connector_signatures import (
    GENERIC_HEADER,
    SHOPIFY_HEADER,
    STRIPE_HEADER,
    ZENDESK_HEADER,
    ZENDESK_TIMESTAMP_HEADER,
    SignatureRefused,
    generic_sign,
    signature_verify,
)
from integrations.models import Connector, ConnectorDelivery
from integrations.outbound import AddressRefused, url_check
from surveys.api import contains_nul, event_input
from surveys.conditions import conditions_match
from surveys.models import Contact, TriggerRule
from surveys.services.ingest import event_ingest

logger = logging.getLogger(__name__)

EVENT_TYPE_RE = r"^[a-z0-9_.:-]+$"
# A delivery still waiting this long after it arrived lost its task (broker down at commit): handed over again.
REENQUEUE_AFTER = timedelta(minutes=5)
SWEEP_BATCH = 500
DETAIL_MAX_CHARS = 2000
FIELDS = (
    "name",
    "kind",
    "secret",
    "event_type",
    "field_map",
    "is_active",
    "zendesk_writeback",
    "zendesk_url",
    "zendesk_email",
    "zendesk_api_token",
)


class ConnectorNotFound(Exception):
    """No active connector has this address."""


class BodyRefused(Exception):
    """Signed by the source, but not a JSON object: nothing can be read from it."""


@dataclass(frozen=True)
class Received:
    delivery: ConnectorDelivery
    duplicate: bool


# --- configuration --------------------------------------------------------------------------------


def connector_url(connector: Connector) -> str:
    """The address to paste into the other system."""
    return f"{settings.SITE_URL}/hooks/{connector.public_id}/"


def connector_secret_new() -> str:
    return "clsec_" + secrets.token_hex(24)


def _errors(connector: Connector) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if connector.kind not in Connector.Kind.values:
        errors["kind"] = [_("Choose one of %(choices)s.") % {"choices": ", ".join(Connector.Kind.values)}]
    if not connector.name.strip():
        errors["name"] = [_("Give the connector a name.")]
    if connector.event_type and not re.match(EVENT_TYPE_RE, connector.event_type):
        errors["event_type"] = [_("Use lowercase letters, digits and _ . : - only, e.g. purchase.")]
    if connector.kind == Connector.Kind.GENERIC:
        if not connector.event_type:
            errors["event_type"] = [_("A generic connector needs the event type its deliveries become.")]
        errors.update(field_map_errors(connector.field_map))
    elif connector.field_map:
        errors["field_map"] = [_("Only generic connectors take a field map; the others read their source's own JSON.")]
    if connector.zendesk_writeback:
        if connector.kind != Connector.Kind.ZENDESK:
            errors["zendesk_writeback"] = [_("Only Zendesk connectors write back to tickets.")]
        for name, message in (
            ("zendesk_url", _("Give your Zendesk address, e.g. https://yourcompany.zendesk.com.")),
            ("zendesk_email", _("Give the email of the agent the API token belongs to.")),
            ("zendesk_api_token", _("Give a Zendesk API token (Admin Center → Apps and integrations → Zendesk API).")),
        ):
            if not getattr(connector, name):
                errors[name] = [message]
    if connector.zendesk_url and "zendesk_url" not in errors:
        if not connector.zendesk_url.startswith("https://") and not settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
            errors["zendesk_url"] = [_("Use the https:// address of your Zendesk.")]
        else:
            try:
                url_check(connector.zendesk_url)
            except AddressRefused as exc:
                errors["zendesk_url"] = [str(exc)]
    return errors


@transaction.atomic
def connector_save(*, connector: Connector | None = None, **fields) -> Connector:
    """Create (no `connector`) or change one; field-level ValidationError when it cannot be used as given.

    A blank `secret` or `zendesk_api_token` on a change keeps the one stored (they are never shown again);
    a generic connector created without a secret gets one (its sender signs with it).
    """
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    creating = connector is None
    connector = connector or Connector()
    if not creating and "kind" in fields and fields["kind"] != connector.kind:
        raise ValidationError({"kind": [_("A connector's kind cannot change: create another connector.")]})
    for name, value in fields.items():
        if name in ("secret", "zendesk_api_token") and not value and not creating:
            continue
        setattr(connector, name, value.strip() if isinstance(value, str) else value)
    if creating and connector.kind == Connector.Kind.GENERIC and not connector.secret:
        connector.secret = connector_secret_new()
    if not connector.zendesk_writeback and connector.kind != Connector.Kind.ZENDESK:
        connector.zendesk_url = connector.zendesk_email = connector.zendesk_api_token = ""
    if errors := _errors(connector):
        raise ValidationError(errors)
    connector.save()
    return connector


def connector_delete(*, connector: Connector) -> None:
    """The connector, its delivery log and its pending Zendesk notes go; the events it created stay."""
    connector.delete()


def connector_setup_steps(connector: Connector) -> list[str]:
    """What to do in the other system, step by step, with this connector's address (docs/connectors/), in the
    reader's language; the menus and buttons of the other system are named as it names them in English."""
    values = {
        "url": connector_url(connector),
        "event_type": connector.event_type or DEFAULT_EVENT_TYPES.get(connector.kind, ""),
        "header": GENERIC_HEADER,
    }
    if connector.kind == Connector.Kind.SHOPIFY:
        steps = [
            _(
                "In Shopify admin, open Settings → Notifications → Webhooks and click Create webhook "
                "(or subscribe your app with the Admin API)."
            ),
            _(
                "Event: Order fulfillment (topic orders/fulfilled). Format: JSON. URL: %(url)s. "
                "API version: the latest stable one."
            ),
            _(
                "Copy the signing secret Shopify shows under the webhooks list (an app's client secret for app "
                "subscriptions) into this connector's secret."
            ),
            _(
                "Create a trigger rule for the event “%(event_type)s”, with a delay of your usual delivery time: "
                "“fulfilled” means shipped, not delivered."
            ),
            _("Click “Send test notification” in Shopify, or “Send a test delivery” here, and check the delivery log."),
        ]
    elif connector.kind == Connector.Kind.ZENDESK:
        steps = [
            _(
                "In Zendesk Admin Center, open Apps and integrations → Webhooks → Create webhook; choose "
                "“Trigger or automation”."
            ),
            _("Endpoint URL: %(url)s. Request method: POST. Request format: JSON. Authentication: none."),
            _(
                "After creating it, click “Reveal secret” on the webhook and copy the signing secret into this "
                "connector's secret."
            ),
            _(
                "Create a trigger: Conditions “Ticket status changed to Solved”; Action “Notify active webhook”, "
                "this webhook, with the JSON body below."
            ),
            _(
                "Create a second trigger with the same action for “Ticket status changed from Solved” (reopened): "
                "it cancels the survey not yet sent, when your trigger rule names "
                "support_ticket_reopened as its cancel event (matched on ticket_id)."
            ),
            _("Create a trigger rule for “%(event_type)s”."),
        ]
    elif connector.kind == Connector.Kind.STRIPE:
        steps = [
            _(
                "In the Stripe Dashboard, open Developers → Webhooks → Add endpoint (or `stripe listen "
                "--forward-to %(url)s` while testing)."
            ),
            _("Endpoint URL: %(url)s. Events: checkout.session.completed and customer.subscription.deleted."),
            _("Click “Reveal” under Signing secret and copy the whsec_… value into this connector's secret."),
            _("Create trigger rules for “%(event_type)s” (a checkout) and “subscription_cancelled” (a cancellation)."),
        ]
    else:
        steps = [
            _("POST each event as JSON to %(url)s."),
            _(
                'Sign it: header %(header)s: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" '
                "with this connector's secret>. Closeloop refuses a signature more than 5 minutes old."
            ),
            _(
                "Give each event a unique id (the body's id field, unless the field map points elsewhere): "
                "a replay of an id already received is ignored."
            ),
            _("Create a trigger rule for “%(event_type)s”."),
        ]
    # Every step is formatted, with or without a placeholder, so a "%" in a translation is written "%%" always.
    return [step % values for step in steps]


# --- receiving ------------------------------------------------------------------------------------


def _delivery_id(kind: str, headers, payload: dict, connector: Connector) -> str:
    """The source's own id of this delivery or event, which its retries repeat."""
    if kind == Connector.Kind.SHOPIFY:
        return headers.get("X-Shopify-Event-Id", "") or headers.get("X-Shopify-Webhook-Id", "")
    if kind == Connector.Kind.ZENDESK:
        webhook = headers.get("X-Zendesk-Webhook-Id", "")
        invocation = headers.get("X-Zendesk-Webhook-Invocation-Id", "")
        ticket = str(payload.get("ticket_id", ""))
        return f"{webhook}:{invocation}" if invocation else f"{webhook}:ticket:{ticket}:{payload.get('status', '')}"
    if kind == Connector.Kind.STRIPE:
        return str(payload.get("id", "") or "")
    value = pointer_resolve(payload, (connector.field_map or {}).get("event_id", "/id"))
    return value if isinstance(value, str) else str(value) if isinstance(value, int) else ""


def _topic(kind: str, headers, payload: dict) -> str:
    if kind == Connector.Kind.SHOPIFY:
        return headers.get("X-Shopify-Topic", "")
    if kind == Connector.Kind.STRIPE:
        return str(payload.get("type", "") or "")
    if kind == Connector.Kind.ZENDESK:
        return f"ticket {str(payload.get('status', '')).lower()}".strip()
    return ""


def _enqueue(delivery_ids: list[int]) -> None:
    """Hand the deliveries to workers once the transaction commits.

    With the broker down the stored delivery still stands and the source is told it arrived (a 500 would only
    make it send the delivery again); the beat job hands it over once it is `REENQUEUE_AFTER` old.
    """
    from integrations.tasks import process_connector_delivery  # the task module imports this one

    hand_over_on_commit(process_connector_delivery, delivery_ids, what="connector deliveries")


def connector_refusal_record(*, connector: Connector, reason: str) -> None:
    """What a refused delivery leaves: a count, the time and the reason on the connector, and a log line."""
    Connector.objects.filter(pk=connector.pk).update(
        refused_count=F("refused_count") + 1, last_refused_at=timezone.now(), last_refused_reason=reason[:200]
    )
    logger.warning("connector %s refused a delivery: %s", connector.pk, reason)


def connector_delivery_receive(*, public_id, headers, body: bytes) -> Received:
    """Verify, store once and hand over one delivery. Raises ConnectorNotFound, SignatureRefused, BodyRefused."""
    connector = Connector.objects.filter(public_id=public_id, is_active=True).first()
    if connector is None:
        raise ConnectorNotFound
    try:
        signature_verify(connector.kind, connector.secret, headers, body)
    except SignatureRefused as exc:
        connector_refusal_record(connector=connector, reason=str(exc))
        raise
    try:
        # Strict: NaN, 1e400, 40-digit integers and deep nesting are JSON Python takes but the database cannot.
        payload = loads_strict(body.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BodyRefused(f"The body is not JSON Closeloop can store: {exc}") from exc
    if not isinstance(payload, dict):
        raise BodyRefused("The body must be a JSON object.")
    if contains_nul(payload):
        raise BodyRefused("The body holds a null character (\\u0000), which cannot be stored.")
    delivery = ConnectorDelivery(
        connector=connector,
        delivery_id=_delivery_id(connector.kind, headers, payload, connector)[:200],
        topic=_topic(connector.kind, headers, payload)[:100],
        payload=payload,
    )
    try:
        with transaction.atomic():
            delivery.save()
            _enqueue([delivery.pk])
    except IntegrityError:
        # The source sent this delivery again (a retry after a lost answer, or a replay): nothing new.
        existing = ConnectorDelivery.objects.get(connector=connector, delivery_id=delivery.delivery_id)
        return Received(existing, duplicate=True)
    return Received(delivery, duplicate=False)


# --- processing -----------------------------------------------------------------------------------


def _messages(detail) -> str:
    """A DRF or Django validation error as one line per field."""
    if isinstance(detail, dict):
        return "; ".join(f"{field}: {_messages(value)}" for field, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_messages(value) for value in detail)
    return str(detail)


def _map(connector: Connector, delivery: ConnectorDelivery) -> Mapped | Ignored:
    mapper = MAPPERS[connector.kind]
    return mapper(
        delivery.payload,
        topic=delivery.topic,
        event_type=connector.event_type,
        field_map=connector.field_map or {},
        source=connector.source,
    )


def _finish(delivery: ConnectorDelivery, status: str, detail: str, event=None) -> ConnectorDelivery:
    delivery.status = status
    delivery.detail = detail[:DETAIL_MAX_CHARS]
    delivery.event = event
    delivery.processed_at = timezone.now()
    delivery.save(update_fields=["status", "detail", "event", "processed_at"])
    return delivery


def connector_delivery_process(*, delivery_id: int) -> ConnectorDelivery | None:
    """Turn one received delivery into an event; None when it was already processed (a repeated task)."""
    with transaction.atomic():
        delivery = (
            ConnectorDelivery.objects.select_for_update()
            .select_related("connector")
            .filter(pk=delivery_id, status=ConnectorDelivery.Status.RECEIVED)
            .first()
        )
        if delivery is None:
            return None
        connector = delivery.connector
        if delivery.payload is None:
            return _finish(delivery, ConnectorDelivery.Status.INVALID, "The payload was purged before processing.")
        mapped = _map(connector, delivery)
        if isinstance(mapped, Ignored):
            return _finish(delivery, ConnectorDelivery.Status.IGNORED, mapped.reason)
        event_json = dict(mapped.event)
        if not event_json.get("external_id") and delivery.delivery_id:
            event_json["external_id"] = f"delivery:{delivery.delivery_id}"[:200]
        try:
            event = event_input(event_json)
        except (ApiValidationError, ValidationError) as exc:
            detail = exc.detail if isinstance(exc, ApiValidationError) else exc.message_dict
            return _finish(delivery, ConnectorDelivery.Status.INVALID, f"Not a valid event: {_messages(detail)}")
        result = event_ingest(source=connector.source, event=event)
        if result.duplicate:
            return _finish(
                delivery,
                ConnectorDelivery.Status.DUPLICATE_EVENT,
                f"Event {event.type} {event.external_id} was already received (event #{result.event.pk}).",
                result.event,
            )
        return _finish(
            delivery, ConnectorDelivery.Status.EVENT_CREATED, _outcome(event.type, result, mapped.notes), result.event
        )


def _outcome(event_type: str, result, notes: tuple[str, ...]) -> str:
    parts = [f"Event {event_type} for {result.event.contact}."]
    if result.scheduled:
        parts.append(f"{len(result.scheduled)} invitation(s) scheduled.")
    skipped = [outcome.skipped for outcome in result.skipped]
    if skipped:
        parts.append(f"Not invited: {', '.join(str(reason) for reason in skipped)}.")
    if result.cancelled:
        parts.append(f"{len(result.cancelled)} pending invitation(s) cancelled.")
    return " ".join([*parts, *notes])


def connector_deliveries_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Beat job: deliveries still waiting for a worker long after they arrived (their task was lost)."""
    now = now or timezone.now()
    waiting = list(
        ConnectorDelivery.objects.filter(
            status=ConnectorDelivery.Status.RECEIVED, received_at__lt=now - REENQUEUE_AFTER
        ).values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    with transaction.atomic():
        _enqueue(waiting)
    return {"enqueued": len(waiting)}


# --- the test delivery ----------------------------------------------------------------------------


def _signed_headers(connector: Connector, body: bytes, topic: str) -> dict[str, str]:
    now = int(time.time())
    key = connector.secret.encode()
    if connector.kind == Connector.Kind.SHOPIFY:
        digest = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
        return {SHOPIFY_HEADER: digest, "X-Shopify-Topic": topic, "X-Shopify-Event-Id": "test"}
    if connector.kind == Connector.Kind.ZENDESK:
        stamp = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        digest = base64.b64encode(hmac.new(key, stamp.encode() + body, hashlib.sha256).digest()).decode()
        return {ZENDESK_HEADER: digest, ZENDESK_TIMESTAMP_HEADER: stamp}
    if connector.kind == Connector.Kind.STRIPE:
        digest = hmac.new(key, f"{now}.".encode() + body, hashlib.sha256).hexdigest()
        return {STRIPE_HEADER: f"t={now},v1={digest}"}
    return {GENERIC_HEADER: generic_sign(connector.secret, body, now)}


def connector_test_delivery(*, connector: Connector) -> ConnectorDelivery:
    """A sample delivery of the connector's source, signed with its secret, checked, mapped and matched
    against the trigger rules like a real one; it is logged as a test and nothing is ingested or sent."""
    topic, payload = connector_samples.sample(connector)
    body = json.dumps(payload).encode()
    delivery = ConnectorDelivery(
        connector=connector, topic=topic, payload=payload, status=ConnectorDelivery.Status.TEST
    )
    try:
        signature_verify(connector.kind, connector.secret, _signed_headers(connector, body, topic), body)
    except SignatureRefused as exc:
        delivery.detail = f"Test refused: {exc}"
    else:
        delivery.detail = _test_outcome(connector, delivery)
    delivery.processed_at = timezone.now()
    delivery.save()
    return delivery


def _test_outcome(connector: Connector, delivery: ConnectorDelivery) -> str:
    mapped = _map(connector, delivery)
    if isinstance(mapped, Ignored):
        return f"Test: signature verified; the sample would be ignored: {mapped.reason}"
    try:
        event = event_input(mapped.event)
    except ApiValidationError as exc:
        return f"Test: signature verified; the sample is not a valid event: {_messages(exc.detail)}"
    rules = [
        rule
        for rule in TriggerRule.objects.filter(event_type=event.type, is_active=True, survey__is_active=True)
        if conditions_match(rule.conditions, event.properties)
    ]
    matched = (
        f"it would match trigger rule(s) {', '.join(f'#{rule.pk}' for rule in rules)}"
        if rules
        else f"no active trigger rule takes “{event.type}” yet"
    )
    who = event.contact.email or event.contact.phone or event.contact.external_id
    return f"Test: signature verified; the sample becomes {event.type} for {who}; {matched}. Nothing was sent."


# --- erasure ---------------------------------------------------------------------------------------


def connector_payloads_erase(*, contact: Contact) -> int:
    """Empty every delivery that speaks of a contact being erased: those that became their events, and any
    whose body holds their email or phone (a replay, a delivery that was ignored); the detail goes too, it
    names them. Retention empties the others after RETENTION_CONNECTOR_PAYLOADS_DAYS (integrations/retention.py)."""
    speaks_of = Q(event__contact=contact)
    as_text = ConnectorDelivery.objects.annotate(body=Cast("payload", TextField()))
    for address in (contact.email, contact.phone):
        if address:
            speaks_of |= Q(pk__in=as_text.filter(body__icontains=address).values("pk"))
    return ConnectorDelivery.objects.filter(speaks_of).update(payload=None, detail="", payload_purged_at=timezone.now())
