"""What a source's delivery means for intake: an event in the shape `POST /api/events/` takes, or why it is none.

Each mapper reads a parsed body (and the source's topic) and returns `Mapped(event)` or `Ignored(reason)`;
`integrations.connectors` checks the event with the API's own validation and ingests it.

- Shopify `orders/fulfilled` → `purchase`: the order's email (else its customer's), the customer's name, a
  phone (the order's, else the customer's; dropped when not a valid international number), `customer_locale`;
  properties order id, name and number, total and currency, line item titles, the shop. "Fulfilled" is not
  "delivered": docs/connectors/shopify.md recommends a trigger-rule delay of the usual delivery time.
- Zendesk: the JSON body docs/connectors/zendesk.md gives the trigger (placeholders such as {{ticket.id}});
  a solved or closed ticket → `support_ticket_solved`, any other status (a reopened ticket) →
  `support_ticket_reopened`, which trigger rules name as their cancel event, matched on `ticket_id`.
- Stripe `checkout.session.completed` → `purchase`; `customer.subscription.deleted` → `subscription_cancelled`.
  Stripe sends only the customer's id with a subscription, so its email comes from the latest event this
  connector received for that customer (a checkout); none: the delivery is ignored, saying why.
- Generic: an RFC 6901 JSON pointer per field (`field_map`).
"""

from dataclasses import dataclass

import phonenumbers
from django.utils.translation import gettext as _

from surveys.models import Event
from surveys.scales import SUPPORTED_LOCALES

PURCHASE = "purchase"
TICKET_SOLVED = "support_ticket_solved"
TICKET_REOPENED = "support_ticket_reopened"
SUBSCRIPTION_CANCELLED = "subscription_cancelled"
DEFAULT_EVENT_TYPES = {"shopify": PURCHASE, "zendesk": TICKET_SOLVED, "stripe": PURCHASE}
SHOPIFY_TOPIC = "orders/fulfilled"
ZENDESK_SOLVED_STATUSES = ("solved", "closed")
# Zendesk's {{ticket.requester.language}} is the language's name in the account's language.
LANGUAGE_NAMES = {"english": "en", "anglais": "en", "french": "fr", "français": "fr", "francais": "fr"}
CONTACT_FIELDS = ("email", "phone", "name", "locale", "external_id")
GENERIC_FIELDS = (*CONTACT_FIELDS, "event_id", "occurred_at")


@dataclass(frozen=True)
class Mapped:
    """An event as `POST /api/events/` takes it, and notes on what was left out (a phone that is not one)."""

    event: dict
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ignored:
    reason: str


class PointerError(ValueError):
    """A JSON pointer that is not one (RFC 6901)."""


# --- JSON pointers (RFC 6901) --------------------------------------------------------------------


def pointer_tokens(pointer: str) -> list[str]:
    """The reference tokens of a pointer: "" is the whole document, "/a~1b/0" is ["a/b", "0"]."""
    if not isinstance(pointer, str):
        raise PointerError(_("Give a JSON pointer as text, e.g. /customer/email."))
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PointerError(
            _("“%(pointer)s” is not a JSON pointer: it must start with /, e.g. /customer/email.") % {"pointer": pointer}
        )
    tokens = pointer[1:].split("/")
    for token in tokens:
        if "~" in token.replace("~0", "").replace("~1", ""):
            raise PointerError(_("“%(pointer)s”: ~ must be followed by 0 or 1 (RFC 6901).") % {"pointer": pointer})
    # ~1 first, then ~0: "~01" is "~1" as text, not "/".
    return [token.replace("~1", "/").replace("~0", "~") for token in tokens]


_MISSING = object()


def pointer_resolve(document, pointer: str):
    """The value `pointer` points at in `document`, or _MISSING when there is none."""
    value = document
    for token in pointer_tokens(pointer):
        if isinstance(value, dict):
            if token not in value:
                return _MISSING
            value = value[token]
        elif isinstance(value, list):
            # An array index: digits without a leading zero; "-" (past the end) points at nothing to read.
            if not token.isdigit() or (len(token) > 1 and token.startswith("0")) or int(token) >= len(value):
                return _MISSING
            value = value[int(token)]
        else:
            return _MISSING
    return value


def field_map_errors(field_map) -> dict[str, list[str]]:
    """Field-level problems of a generic connector's map, keyed `field_map.<field>`; empty when none."""
    if not isinstance(field_map, dict):
        return {"field_map": [_('Give an object of JSON pointers, e.g. {"email": "/customer/email"}.')]}
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(field_map) - {*GENERIC_FIELDS, "properties"})
    if unknown:
        errors["field_map"] = [
            _("Unknown field %(unknown)s; use %(fields)s or properties.")
            % {"unknown": ", ".join(unknown), "fields": ", ".join(GENERIC_FIELDS)}
        ]
    pointers = {name: field_map[name] for name in GENERIC_FIELDS if name in field_map}
    properties = field_map.get("properties", {})
    if not isinstance(properties, dict):
        errors["field_map.properties"] = [_("Give an object of property names and JSON pointers.")]
        properties = {}
    pointers.update({f"properties.{name}": pointer for name, pointer in properties.items()})
    for name, pointer in pointers.items():
        try:
            pointer_tokens(pointer)
        except PointerError as exc:
            errors[f"field_map.{name}"] = [str(exc)]
    if not any(name in field_map for name in ("email", "phone", "external_id")):
        errors.setdefault("field_map", []).append(_("Point at least one of email, phone or external_id."))

    return errors


# --- shared helpers ------------------------------------------------------------------------------


def _text(value) -> str:
    """A scalar as text ("" for null, objects and lists), so a missing field never becomes "None"."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _phone(value, notes: list[str]) -> str:
    """An E.164 number, or "" (with a note) for what is not a valid international number."""
    text = _text(value)
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        notes.append(f"The phone number “{text}” was left out: not an international number (+country code).")
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _locale(value) -> str:
    text = _text(value)
    if text.lower() in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[text.lower()]
    language = text.replace("_", "-").split("-")[0].lower()
    # Only what a survey can be shown in; anything else falls back to the contact's (or the default) locale.
    return text if language in SUPPORTED_LOCALES else ""


def _contact(**fields) -> dict:
    return {name: value for name, value in fields.items() if value}


# --- Shopify -------------------------------------------------------------------------------------


def shopify_map(body: dict, *, topic: str, event_type: str, **_) -> Mapped | Ignored:
    if topic != SHOPIFY_TOPIC:
        return Ignored(f"Shopify topic “{topic or 'none'}” starts no survey; subscribe the webhook to {SHOPIFY_TOPIC}.")
    customer = body.get("customer") if isinstance(body.get("customer"), dict) else {}
    billing = body.get("billing_address") if isinstance(body.get("billing_address"), dict) else {}
    notes: list[str] = []
    email = _text(body.get("email")) or _text(body.get("contact_email")) or _text(customer.get("email"))
    name = " ".join(part for part in (_text(customer.get("first_name")), _text(customer.get("last_name"))) if part)
    phone = _phone(body.get("phone") or customer.get("phone"), notes)
    items = body.get("line_items") if isinstance(body.get("line_items"), list) else []
    order_id = _text(body.get("id"))
    properties = {
        "order_id": order_id,
        "order_name": _text(body.get("name")),
        "order_number": body.get("order_number"),
        "total": _text(body.get("total_price")),
        "currency": _text(body.get("currency")),
        "line_items": [_text(item.get("title")) for item in items if isinstance(item, dict) and item.get("title")],
    }
    event = {
        "type": event_type or PURCHASE,
        "external_id": f"order:{order_id}" if order_id else "",
        "contact": _contact(
            email=email,
            phone=phone,
            name=name or _text(billing.get("name")),
            locale=_locale(body.get("customer_locale")),
        ),
        "properties": {key: value for key, value in properties.items() if value not in ("", None, [])},
    }
    return Mapped(event, tuple(notes))


# --- Zendesk -------------------------------------------------------------------------------------

ZENDESK_BODY = """{
  "ticket_id": "{{ticket.id}}",
  "status": "{{ticket.status}}",
  "subject": "{{ticket.title}}",
  "requester_email": "{{ticket.requester.email}}",
  "requester_name": "{{ticket.requester.name}}",
  "requester_language": "{{ticket.requester.language}}",
  "requester_phone": "{{ticket.requester.phone}}",
  "assignee_email": "{{ticket.assignee.email}}",
  "group": "{{ticket.group.name}}",
  "tags": "{{ticket.tags}}"
}"""


def zendesk_map(body: dict, *, event_type: str, **_) -> Mapped | Ignored:
    ticket_id = _text(body.get("ticket_id"))
    if not ticket_id:
        return Ignored(
            "No ticket_id in the body: paste the JSON body Closeloop gives into the trigger's webhook action."
        )
    notes: list[str] = []
    status = _text(body.get("status")).lower()
    solved = status in ZENDESK_SOLVED_STATUSES or not status
    tags = body.get("tags")
    properties = {
        "ticket_id": ticket_id,
        "ticket_status": status,
        "subject": _text(body.get("subject")),
        "assignee_email": _text(body.get("assignee_email")),
        "group": _text(body.get("group")),
        # {{ticket.tags}} renders the tags separated by spaces.
        "tags": tags if isinstance(tags, list) else _text(tags).split(),
    }
    event = {
        "type": (event_type or TICKET_SOLVED) if solved else TICKET_REOPENED,
        "contact": _contact(
            email=_text(body.get("requester_email")),
            phone=_phone(body.get("requester_phone"), notes),
            name=_text(body.get("requester_name")),
            locale=_locale(body.get("requester_language") or body.get("requester_locale")),
        ),
        "properties": {key: value for key, value in properties.items() if value not in ("", None, [])},
    }
    return Mapped(event, tuple(notes))


# --- Stripe --------------------------------------------------------------------------------------


def _stripe_known_email(source: str, customer_id: str) -> dict:
    """The contact fields of this connector's latest event for a Stripe customer (its checkout), or {}."""
    if not customer_id:
        return {}
    event = (
        Event.objects.select_related("contact")
        .filter(source=source, properties__customer_id=customer_id)
        .order_by("-pk")
        .first()
    )
    if event is None:
        return {}
    contact = event.contact
    return _contact(email=contact.email, phone=contact.phone, name=contact.name, locale=contact.locale)


def stripe_map(body: dict, *, event_type: str, source: str, **_) -> Mapped | Ignored:
    kind = _text(body.get("type"))
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    subject = data.get("object") if isinstance(data.get("object"), dict) else {}
    notes: list[str] = []
    if kind == "checkout.session.completed":
        details = subject.get("customer_details") if isinstance(subject.get("customer_details"), dict) else {}
        properties = {
            "checkout_session_id": _text(subject.get("id")),
            "customer_id": _text(subject.get("customer")),
            "subscription_id": _text(subject.get("subscription")),
            "mode": _text(subject.get("mode")),
            # In the currency's smallest unit, as Stripe gives it (cents for USD, yen for JPY).
            "amount_total": subject.get("amount_total"),
            "currency": _text(subject.get("currency")),
            "payment_status": _text(subject.get("payment_status")),
        }
        event = {
            "type": event_type or PURCHASE,
            "external_id": f"checkout:{properties['checkout_session_id']}",
            "contact": _contact(
                email=_text(details.get("email")) or _text(subject.get("customer_email")),
                phone=_phone(details.get("phone"), notes),
                name=_text(details.get("name")),
                locale=_locale(subject.get("locale")),
            ),
            "properties": {key: value for key, value in properties.items() if value not in ("", None)},
        }
        return Mapped(event, tuple(notes))
    if kind == "customer.subscription.deleted":
        customer_id = _text(subject.get("customer"))
        contact = _stripe_known_email(source, customer_id)
        if not contact:
            return Ignored(
                f"Stripe sends only the customer's id ({customer_id or 'none'}) with a cancelled subscription, and "
                "no checkout of that customer reached this connector: there is no one to ask."
            )
        cancellation = subject.get("cancellation_details")
        cancellation = cancellation if isinstance(cancellation, dict) else {}
        properties = {
            "subscription_id": _text(subject.get("id")),
            "customer_id": customer_id,
            "cancellation_reason": _text(cancellation.get("reason")),
            "cancellation_feedback": _text(cancellation.get("feedback")),
            "cancellation_comment": _text(cancellation.get("comment")),
        }
        event = {
            "type": SUBSCRIPTION_CANCELLED,
            "external_id": f"subscription_deleted:{properties['subscription_id']}",
            "contact": contact,
            "properties": {key: value for key, value in properties.items() if value},
        }
        return Mapped(event)
    return Ignored(
        f"Stripe event “{kind or 'none'}” starts no survey; send checkout.session.completed or "
        "customer.subscription.deleted."
    )


# --- generic -------------------------------------------------------------------------------------


def generic_map(body, *, event_type: str, field_map: dict, **_) -> Mapped | Ignored:
    notes: list[str] = []
    values = {}
    # The replay id is the body's `id` unless the map points elsewhere.
    pointers = {"event_id": "/id", **{name: field_map[name] for name in GENERIC_FIELDS if name in field_map}}
    for name, pointer in pointers.items():
        value = pointer_resolve(body, pointer)
        values[name] = "" if value is _MISSING else _text(value)
    properties = {}
    for name, pointer in (field_map.get("properties") or {}).items():
        value = pointer_resolve(body, pointer)
        if value is not _MISSING:
            properties[name] = value
    event = {
        "type": event_type,
        "external_id": values["event_id"],
        "contact": _contact(
            email=values.get("email", ""),
            phone=_phone(values.get("phone"), notes),
            name=values.get("name", ""),
            locale=_locale(values.get("locale")),
            external_id=values.get("external_id", ""),
        ),
        "properties": properties,
    }
    if values.get("occurred_at"):
        event["occurred_at"] = values["occurred_at"]
    return Mapped(event, tuple(notes))


MAPPERS = {"shopify": shopify_map, "zendesk": zendesk_map, "stripe": stripe_map, "generic": generic_map}
