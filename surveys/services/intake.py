"""Writes of intake: API keys, contacts, events and the invitations their trigger rules schedule.

Decides who is invited, when and on which channel. It never sends anything: due
invitations are the dispatcher's (`surveys.services.dispatch`).
"""

import hashlib
import json
import secrets
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from operator import attrgetter
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Field, Model, Q
from django.utils import timezone

from notifications.models import Channel
from notifications.selectors import recipient_is_contactable, recipient_suppressed_sql, recipients_suppressed
from surveys.conditions import conditions_match
from surveys.models import ApiKey, Contact, Event, IdempotencyKey, Invitation, Survey, TriggerRule
from surveys.scales import pick_locale
from surveys.selectors import api_key_forget, api_keys_forget, trigger_rules_all
from surveys.services import fatigue
from surveys.tokens import invitation_token, token_hash

API_KEY_PREFIX = "cl_"
ModelT = TypeVar("ModelT", bound=Model)


def api_key_create(*, name: str, scopes: list[str] | None = None, survey: Survey | None = None) -> tuple[ApiKey, str]:
    """Create a key and return it with its raw value, which is never stored."""
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        name=name,
        prefix=raw[:10],
        key_hash=token_hash(raw),
        scopes=scopes if scopes is not None else list(ApiKey.Scope.values),
        survey=survey,
    )
    return api_key, raw


def api_key_mark_used(*, api_key: ApiKey) -> None:
    """Record use at most once a minute, so a busy key does not write on every request."""
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < timedelta(minutes=1):
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now
    # The cached copy still has the old time; the next request reads the new one.
    api_key_forget(api_key=api_key)


def api_keys_revoke(*, ids: list[int]) -> int:
    """Revoke keys at once; a revoked key is refused from its next request."""
    revoked = ApiKey.objects.filter(pk__in=ids, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_keys_forget()
    transaction.on_commit(api_keys_forget)
    return revoked


@dataclass(frozen=True, slots=True)
class ContactData:
    email: str = ""
    phone: str = ""
    name: str = ""
    locale: str = ""
    timezone: str = ""
    external_id: str = ""
    properties: dict = field(default_factory=dict)


# What names a contact, in the order a match is looked for.
IDENTIFIERS = ("external_id", "email", "phone")


def _identifiers(data: ContactData) -> list[tuple[str, str]]:
    return [(name, value) for name in IDENTIFIERS if (value := getattr(data, name))]


def _contacts_named(data: ContactData, *, lock: bool = False) -> list[Contact]:
    """Every contact owning one of the given identifiers, in one query; with `lock`, their rows are
    locked until the transaction ends (in id order, so that two lookups cannot deadlock)."""
    named = Q()
    for name, value in _identifiers(data):
        named |= Q(**{name: value})
    if not named:
        return []
    contacts = Contact.objects.filter(named).order_by("pk")
    return list(contacts.select_for_update() if lock else contacts)


def _contact_pick(data: ContactData, candidates: list[Contact]) -> Contact | None:
    """The contact the data speaks of: matched by external id, then email, then phone."""
    for name, value in _identifiers(data):
        for contact in candidates:
            if getattr(contact, name) == value:
                return contact
    return None


def contact_upsert(*, data: ContactData) -> Contact:
    """Find the contact by external id, email or phone, and update it with what was given."""
    return _contact_upsert(data)[0]


def _contact_new(data: ContactData) -> Contact:
    return Contact(
        email=data.email,
        phone=data.phone,
        name=data.name,
        locale=pick_locale(data.locale),
        timezone=data.timezone,
        external_id=data.external_id,
        properties=data.properties,
    )


def _contact_upsert(data: ContactData, *, savepoint: bool = True, lock: bool = False) -> tuple[Contact, bool]:
    """The contact and whether it is new. Without `savepoint`, a concurrent creation of the same
    contact raises IntegrityError and aborts the caller's transaction, which must then start over.
    With `lock`, a known contact's row is locked as it is read, until the transaction ends."""
    if not (data.email or data.phone or data.external_id):
        raise ValidationError({"contact": "Give at least an email, a phone number or an external id."})
    candidates = _contacts_named(data, lock=lock)
    contact = _contact_pick(data, candidates)
    if contact is None and not savepoint:
        contact = _contact_new(data)
        contact.save(force_insert=True)
        return contact, True
    if contact is None:
        try:
            with transaction.atomic():
                contact = _contact_new(data)
                contact.save(force_insert=True)
                return contact, True
        except IntegrityError:
            # A concurrent request created the same contact first.
            candidates = _contacts_named(data)
            contact = _contact_pick(data, candidates)
            if contact is None:
                raise
    changed = []
    for name in ("email", "phone", "name", "timezone", "external_id"):
        value = getattr(data, name)
        if not value or getattr(contact, name) == value:
            continue
        if name in ("email", "external_id") and any(
            other.pk != contact.pk and getattr(other, name) == value for other in candidates
        ):
            # Another contact owns this address or id: keep both people as they are rather than merge them.
            continue
        setattr(contact, name, value)
        changed.append(name)
    if data.locale and contact.locale != pick_locale(data.locale):
        contact.locale = pick_locale(data.locale)
        changed.append("locale")
    if data.properties and {**contact.properties, **data.properties} != contact.properties:
        contact.properties = {**contact.properties, **data.properties}
        changed.append("properties")
    if changed:
        contact.save(update_fields=[*changed, "updated_at"])
    return contact, False


class SkipReason:
    NO_CHANNEL = "no_channel"
    NO_RULE = "no_rule"
    DUPLICATE = "duplicate"
    SAMPLED_OUT = "sampled_out"
    THROTTLED = fatigue.THROTTLED
    OPTED_OUT = fatigue.OPTED_OUT


@dataclass(frozen=True, slots=True)
class ScheduleOutcome:
    trigger_rule_id: int | None
    invitation: Invitation | None
    skipped: str = ""


@dataclass(frozen=True, slots=True)
class IngestResult:
    event: Event
    duplicate: bool
    outcomes: list[ScheduleOutcome]
    cancelled: list[Invitation] = field(default_factory=list)

    @property
    def scheduled(self) -> list[ScheduleOutcome]:
        return [outcome for outcome in self.outcomes if outcome.invitation]

    @property
    def skipped(self) -> list[ScheduleOutcome]:
        return [outcome for outcome in self.outcomes if outcome.skipped]


Contactable = Callable[[str, str], bool]


def _contactable(channel: str, address: str) -> bool:
    return recipient_is_contactable(channel=channel, recipient=address)


def _contactable_unless(suppressed: set[tuple[str, str]]) -> Contactable:
    """Consent already read: every `(channel, address)` may be contacted but those in `suppressed`."""

    def contactable(channel: str, address: str) -> bool:
        return (channel, address) not in suppressed

    return contactable


def _channel_for(contact: Contact, choice: str, contactable: Contactable = _contactable) -> tuple[str | None, str]:
    """The channel to use and, when there is none, why: no address at all, or every address opted out."""
    if choice == TriggerRule.ChannelChoice.EMAIL_THEN_SMS:
        candidates = [Channel.EMAIL, Channel.SMS]
    else:
        candidates = [choice]
    reachable = [channel for channel in candidates if fatigue.address_for(contact, channel)]
    if not reachable:
        return None, SkipReason.NO_CHANNEL
    for channel in reachable:
        if contactable(channel, fatigue.address_for(contact, channel)):
            return channel, ""
    return None, SkipReason.OPTED_OUT


def sampled_in(key: str, rate: float) -> bool:
    """A stable coin toss per key, so a retried event gets the same answer."""
    if rate >= 1:
        return True
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def invitation_schedule(
    *,
    contact: Contact,
    survey: Survey,
    channel_choice: str,
    delay: timedelta = timedelta(0),
    event: Event | None = None,
    trigger_rule: TriggerRule | None = None,
    properties: dict | None = None,
    expiry: timedelta | None = None,
    fatigue_exempt: bool = False,
) -> ScheduleOutcome:
    """Store an invitation due after `delay`, unless consent or fatigue forbid it.

    An SMS due outside the contact's send window is moved to when the window opens.
    `fatigue_exempt` is for a survey that follows up the contact's own answer: consent and the
    SMS window still apply, the contact-pressure window does not (now nor at send time).
    """
    outcome = _invitation_build(
        contact=contact,
        survey=survey,
        channel_choice=channel_choice,
        now=timezone.now(),
        delay=delay,
        event=event,
        trigger_rule=trigger_rule,
        properties=properties,
        expiry=expiry,
        throttled=lambda at: fatigue.contact_is_throttled(contact=contact, survey_id=survey.pk, at=at),
        fatigue_exempt=fatigue_exempt,
    )
    if outcome.invitation is not None:
        outcome.invitation.save()
    return outcome


def _invitation_build(
    *,
    contact: Contact,
    survey: Survey,
    channel_choice: str,
    now: datetime,
    delay: timedelta,
    event: Event | None,
    trigger_rule: TriggerRule | None,
    properties: dict | None,
    expiry: timedelta | None,
    throttled: Callable[[datetime], bool],
    fatigue_exempt: bool = False,
    contactable: Contactable = _contactable,
) -> ScheduleOutcome:
    """The invitation to store (unsaved), due `delay` after `now`, or why there is none; `throttled(at)` answers
    the fatigue question."""
    rule_id = trigger_rule.pk if trigger_rule else None
    channel, reason = _channel_for(contact, channel_choice, contactable)
    if channel is None:
        return ScheduleOutcome(rule_id, None, reason)
    # The exemption is granted by our caller, never carried in by an event's or API request's properties.
    properties = {key: value for key, value in (properties or {}).items() if key != fatigue.FATIGUE_EXEMPT_PROPERTY}
    if fatigue_exempt:
        properties[fatigue.FATIGUE_EXEMPT_PROPERTY] = True
    scheduled_at = now + delay
    if not fatigue_exempt and throttled(scheduled_at):
        return ScheduleOutcome(rule_id, None, SkipReason.THROTTLED)
    if channel == Channel.SMS:
        scheduled_at = fatigue.sms_window_next_open(contact, scheduled_at) or scheduled_at
    invitation = Invitation(
        contact=contact,
        survey=survey,
        event=event,
        trigger_rule=trigger_rule,
        channel=channel,
        locale=pick_locale(properties.get("locale") or contact.locale),
        properties=properties,
        scheduled_at=scheduled_at,
        expires_at=scheduled_at + (expiry or timedelta(days=settings.INVITATION_EXPIRY_DAYS)),
    )
    invitation.token_hash = token_hash(invitation_token(invitation.public_id))
    return ScheduleOutcome(rule_id, invitation)


def invitations_cancel_for_event(*, event: Event, rules: list[TriggerRule]) -> list[Invitation]:
    """Cancel pending invitations whose rule names this event's type as cancelling, for the same subject.

    The subject is the rule's `match_property` (e.g. `ticket_id`): a reopened ticket cancels
    the survey about that ticket only.
    """
    cancelled = []
    for rule in rules:
        value = event.properties.get(rule.match_property) if rule.match_property else None
        if event.type not in rule.cancel_on_event_types or value in (None, ""):
            continue
        pending = Invitation.objects.select_for_update().filter(
            trigger_rule=rule,
            status=Invitation.Status.SCHEDULED,
            **{f"event__properties__{rule.match_property}": value},
        )
        for invitation in pending:
            invitation.status = Invitation.Status.CANCELLED
            invitation.cancel_reason = f"event:{event.type}"
            invitation.save(update_fields=["status", "cancel_reason"])
            cancelled.append(invitation)
    return cancelled


def _rules_outcomes(
    event: Event,
    contact: Contact,
    rules: list[TriggerRule],
    *,
    now: datetime,
    new_contact: bool,
    contactable: Contactable,
) -> list[ScheduleOutcome]:
    """What each rule matching the event decides for its contact, with the invitations still unsaved.

    Fatigue weighs the contact's stored invitations (none for a contact created with this event)
    and those this event's earlier rules just built.
    """
    survey_window, global_window = fatigue.windows()
    built: list[tuple[int, datetime]] = []

    def throttled(survey_id: int, at: datetime) -> bool:
        if fatigue.is_throttled(
            built, survey_id=survey_id, at=at, survey_window=survey_window, global_window=global_window
        ):
            return True
        return not new_contact and fatigue.contact_is_throttled(contact=contact, survey_id=survey_id, at=at)

    outcomes = []
    for rule in rules:
        if not (
            rule.event_type == event.type
            and rule.is_active
            and rule.survey.is_active
            and conditions_match(rule.conditions, event.properties)
        ):
            continue
        if not sampled_in(f"{rule.pk}:{event.source}:{event.external_id or event.pk}", rule.sample_rate):
            outcomes.append(ScheduleOutcome(rule.pk, None, SkipReason.SAMPLED_OUT))
            continue
        outcome = _invitation_build(
            contact=contact,
            survey=rule.survey,
            channel_choice=rule.channel,
            now=now,
            delay=rule.delay,
            event=event,
            trigger_rule=rule,
            properties=event.properties,
            expiry=rule.expiry,
            throttled=lambda at, survey_id=rule.survey_id: throttled(survey_id, at),
            contactable=contactable,
        )
        if outcome.invitation is not None:
            built.append((rule.survey_id, outcome.invitation.scheduled_at))
        outcomes.append(outcome)
    return outcomes or [ScheduleOutcome(None, None, SkipReason.NO_RULE)]


def _duplicate(existing: Event) -> IngestResult:
    return IngestResult(existing, True, [ScheduleOutcome(None, None, SkipReason.DUPLICATE)])


def event_ingest(
    *,
    source: str,
    type: str,
    contact: ContactData,
    external_id: str = "",
    occurred_at: datetime | None = None,
    properties: dict | None = None,
) -> IngestResult:
    """Record an event, cancel what it cancels, and schedule what its trigger rules ask for, once per event.

    All in one transaction without savepoints. Most events are new, so the first try does not look
    for a stored copy: the unique constraint on `(source, external_id)` is that check. When it
    fails (a retried event), or a concurrent request stores the same contact first, the whole
    transaction is undone and the second try looks first, and finds them.
    """
    arguments = {
        "source": source,
        "type": type,
        "contact": contact,
        "external_id": external_id,
        "occurred_at": occurred_at,
        "properties": properties or {},
    }
    try:
        with transaction.atomic():
            return _event_ingest(**arguments, look_for_duplicate=False)
    except IntegrityError:
        with transaction.atomic():
            return _event_ingest(**arguments, look_for_duplicate=True)


def _event_ingest(
    *,
    source: str,
    type: str,
    contact: ContactData,
    external_id: str,
    occurred_at: datetime | None,
    properties: dict,
    look_for_duplicate: bool,
) -> IngestResult:
    if external_id and look_for_duplicate:
        existing = Event.objects.filter(source=source, external_id=external_id).first()
        if existing:
            return _duplicate(existing)
    # The lock serialises concurrent events of one contact, so two cannot both pass the fatigue check
    # nor both merge properties into the same stale copy; taken by the lookup itself, it costs no
    # statement of its own (a contact created here is already private to this transaction).
    person, created = _contact_upsert(contact, savepoint=False, lock=True)
    now = timezone.now()
    event = Event(
        source=source,
        type=type,
        external_id=external_id,
        occurred_at=occurred_at or now,
        properties=properties,
        contact=person,
    )
    suppressed = _event_insert(event)
    all_rules = trigger_rules_all()
    cancelled = invitations_cancel_for_event(event=event, rules=all_rules)
    contactable = _contactable_unless(suppressed)
    outcomes = _rules_outcomes(event, person, all_rules, now=now, new_contact=created, contactable=contactable)
    invitations = [outcome.invitation for outcome in outcomes if outcome.invitation is not None]
    if invitations:
        Invitation.objects.bulk_create(invitations)
    return IngestResult(event, False, outcomes, cancelled)


def _event_insert(event: Event) -> set[tuple[str, str]]:
    """Insert the event and return which of its contact's `(channel, address)` may not be contacted.

    The rules ask consent next: read in the INSERT's own RETURNING (PostgreSQL and SQLite both allow
    subqueries there), it costs no round trip of its own. The contact's addresses are final by now.
    """
    addresses = [
        (channel, address)
        for channel in (Channel.EMAIL, Channel.SMS)
        if (address := fatigue.address_for(event.contact, channel))
    ]
    checks = [recipient_suppressed_sql(channel=channel, recipient=address) for channel, address in addresses]
    meta = Event._meta
    fields = [model_field for model_field in meta.concrete_fields if not model_field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model_field.column) for model_field in fields)
    returning = ", ".join([quote(meta.pk.column), *(condition for condition, _ in checks)])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
            f" RETURNING {returning}",
            [
                *(
                    model_field.get_db_prep_save(model_field.pre_save(event, add=True), connection)
                    for model_field in fields
                ),
                *(parameter for _, parameters in checks for parameter in parameters),
            ],
        )
        event.pk, *blocked = cursor.fetchone()
    event._state.adding = False
    event._state.db = connection.alias
    return {address for address, is_blocked in zip(addresses, blocked, strict=True) if is_blocked}


@dataclass(frozen=True, slots=True)
class EventData:
    type: str
    contact: ContactData
    external_id: str = ""
    occurred_at: datetime | None = None
    properties: dict = field(default_factory=dict)


@transaction.atomic
def events_ingest(*, source: str, events: list[EventData]) -> list[IngestResult]:
    """Ingest many events with the outcome `event_ingest` would give each, in a handful of queries.

    Events of new, distinct contacts take a bulk path; the rest (known contacts, contacts named
    twice, repeated external ids, events from the first cancelling one on) go through
    `event_ingest` one by one; events already stored are answered as duplicates at once.
    """
    all_rules = trigger_rules_all()
    cancelling = {event_type for rule in all_rules for event_type in rule.cancel_on_event_types}
    external_ids = [event.external_id for event in events if event.external_id]
    stored = {}
    if external_ids:
        # Not blank: the unique index that finds them covers only events with an external id.
        candidates = Event.objects.filter(source=source, external_id__any_of=external_ids)
        for event in candidates.exclude(external_id=""):
            stored[event.external_id] = event
    wanted = [pair for event in events for pair in _identifiers(event.contact)]
    # Every contact owning one of the batch's identifiers, in one query: a union of one lookup per
    # kind, each on its own index (unique emails and external ids are indexed only when not blank).
    owners = [
        Contact.objects.filter(**{f"{name}__any_of": values}).exclude(**{name: ""}).values_list(*IDENTIFIERS)
        for name in IDENTIFIERS
        if (values := [value for kind, value in wanted if kind == name])
    ]
    known = set()
    if owners:
        for identifiers in owners[0].union(*owners[1:]):
            known.update(zip(IDENTIFIERS, identifiers, strict=True))
    named = Counter(wanted)
    seen_ids = Counter(external_ids)
    # A cancelling event may cancel invitations of any earlier event (same ticket, any contact),
    # so only events before the first one can skip ahead of it.
    first_cancelling = next((i for i, event in enumerate(events) if event.type in cancelling), len(events))
    fast = [
        index
        for index, event in enumerate(events[:first_cancelling])
        if (not event.external_id or (event.external_id not in stored and seen_ids[event.external_id] == 1))
        and all(pair not in known and named[pair] == 1 for pair in _identifiers(event.contact))
        and _identifiers(event.contact)
    ]
    results: dict[int, IngestResult] = {}
    try:
        with transaction.atomic():
            results.update(_events_ingest_new(source, [(index, events[index]) for index in fast], all_rules))
    except IntegrityError:
        # A concurrent request stored one of these contacts or events first: take the careful path.
        results.clear()
    for index, event in enumerate(events):
        if index in results:
            continue
        if event.external_id in stored:
            results[index] = _duplicate(stored[event.external_id])
        else:
            results[index] = event_ingest(
                source=source,
                type=event.type,
                contact=event.contact,
                external_id=event.external_id,
                occurred_at=event.occurred_at,
                properties=event.properties,
            )
    return [results[index] for index in range(len(events))]


def _events_ingest_new(
    source: str, items: list[tuple[int, EventData]], all_rules: list[TriggerRule]
) -> dict[int, IngestResult]:
    """Bulk path: each contact is new and named once, so fatigue only weighs this event's own rules."""
    if not items:
        return {}
    contacts = _rows_insert([_contact_new(event.contact) for _, event in items])
    now = timezone.now()
    stored = _rows_insert(
        [
            Event(
                source=source,
                type=event.type,
                external_id=event.external_id,
                occurred_at=event.occurred_at or now,
                properties=event.properties or {},
                contact=contact,
            )
            for (_, event), contact in zip(items, contacts, strict=True)
        ]
    )
    addresses = [
        (channel, address)
        for contact in contacts
        for channel in (Channel.EMAIL, Channel.SMS)
        if (address := fatigue.address_for(contact, channel))
    ]
    contactable = _contactable_unless(recipients_suppressed(recipients=addresses))
    results, invitations = {}, []
    for (index, _), contact, event in zip(items, contacts, stored, strict=True):
        # The whole batch arrives at one instant, so its invitations share their times.
        outcomes = _rules_outcomes(event, contact, all_rules, now=now, new_contact=True, contactable=contactable)
        invitations.extend(outcome.invitation for outcome in outcomes if outcome.invitation is not None)
        results[index] = IngestResult(event, False, outcomes)
    _rows_insert(invitations)
    return results


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} has no JSON form for _rows_insert")


def _rows_insert(rows: list[ModelT]) -> list[ModelT]:
    """Insert new rows of one model in one statement and give them their ids, like `bulk_create`.

    On PostgreSQL the rows travel as one JSON document that `json_to_recordset` expands on the
    server: `bulk_create` adapts every value of every row in Python first, which for a batch of
    1000 events took longer than the database's own work. Other databases use `bulk_create`.
    """
    if not rows:
        return rows
    if connection.vendor != "postgresql":
        return type(rows[0]).objects.bulk_create(rows)
    meta = rows[0]._meta
    fields = [model_field for model_field in meta.concrete_fields if not model_field.primary_key]
    # Fields that may set their value on save (auto_now dates); the others are read as they are.
    stamped = [model_field for model_field in fields if type(model_field).pre_save is not Field.pre_save]
    values = attrgetter(*(model_field.attname for model_field in fields))
    quote = connection.ops.quote_name
    columns = [model_field.column for model_field in fields]
    quoted = ", ".join(quote(column) for column in columns)
    record = ", ".join(f"{quote(model_field.column)} {model_field.db_type(connection)}" for model_field in fields)
    for row in rows:
        for model_field in stamped:
            model_field.pre_save(row, add=True)
    document = json.dumps([dict(zip(columns, values(row), strict=True)) for row in rows], default=_json_value)
    with connection.cursor() as cursor:
        # INSERT ... SELECT keeps the document's order, and RETURNING gives the ids in it.
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({quoted}) SELECT {quoted}"
            f" FROM json_to_recordset(%s::json) AS given({record}) RETURNING {quote(meta.pk.column)}",
            [document],
        )
        alias = connection.alias  # read once: each read goes through the connection proxy
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk
            row._state.adding = False
            row._state.db = alias
    return rows


IDEMPOTENCY_TTL = timedelta(hours=24)


class IdempotencyConflict(Exception):
    """The key was first used with a different request body."""


class IdempotencyInFlight(Exception):
    """The first request with this key has not finished yet."""


def idempotency_claim(*, api_key: ApiKey, key: str, request_hash: str) -> tuple[IdempotencyKey, bool]:
    """Claim `key` for this request: `(record, True)` to go ahead, `(record, False)` to replay its answer."""
    now = timezone.now()
    IdempotencyKey.objects.filter(api_key=api_key, key=key, created_at__lte=now - IDEMPOTENCY_TTL).delete()
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(api_key=api_key, key=key, request_hash=request_hash, created_at=now)
            return record, True
    except IntegrityError:
        record = IdempotencyKey.objects.get(api_key=api_key, key=key)
    if record.request_hash != request_hash:
        raise IdempotencyConflict
    if record.status_code is None:
        raise IdempotencyInFlight
    return record, False


def idempotency_complete(*, record: IdempotencyKey, status_code: int, body: dict) -> None:
    record.status_code = status_code
    record.response_body = body
    record.save(update_fields=["status_code", "response_body"])


def idempotency_keys_prune() -> int:
    """Forget keys older than 24 hours; returns how many were deleted."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=timezone.now() - IDEMPOTENCY_TTL).delete()
    return deleted


def idempotency_release(*, record: IdempotencyKey) -> None:
    """Forget a claim whose request failed, so that the client's retry is processed afresh."""
    record.delete()


def trigger_rule_create(**fields) -> TriggerRule:
    return TriggerRule.objects.create(**fields)


def trigger_rule_update(*, rule: TriggerRule, **fields) -> TriggerRule:
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.save()
    return rule


def contact_survey_request(
    *,
    data: ContactData,
    survey: Survey,
    channel: str,
    delay: timedelta = timedelta(0),
    send: bool = True,
    properties: dict | None = None,
    last_sent_at: datetime | None = None,
    email_update: str = "",
    phone_update: str = "",
) -> tuple[Contact, ScheduleOutcome | None]:
    """Delighted's "create person": upsert the contact and, unless `send` is false, schedule a survey request.

    `last_sent_at` is a send made elsewhere (before switching to us); it counts against the window.
    `email_update`/`phone_update` give the person found by `data`'s email or phone a new one,
    to which the survey then goes.
    """
    with transaction.atomic():
        if email_update or phone_update:
            contact_addresses_change(current=data, email=email_update, phone=phone_update)
            data = replace(data, email=email_update or data.email, phone=phone_update or data.phone)
        contact = contact_upsert(data=data)
        if not send:
            return contact, None
        if last_sent_at and fatigue.is_throttled(
            [(survey.pk, last_sent_at)],
            survey_id=survey.pk,
            at=timezone.now() + delay,
            survey_window=timedelta(days=settings.FATIGUE_SURVEY_DAYS),
            global_window=timedelta(days=settings.FATIGUE_GLOBAL_DAYS),
        ):
            return contact, ScheduleOutcome(None, None, SkipReason.THROTTLED)
        Contact.objects.select_for_update().filter(pk=contact.pk).first()
        return contact, invitation_schedule(
            contact=contact, survey=survey, channel_choice=channel, delay=delay, properties=properties
        )


def contact_addresses_change(*, current: ContactData, email: str = "", phone: str = "") -> Contact | None:
    """Give the contact found by `current` (its email, else its phone) a new email and/or phone.

    Nobody found: None, and nothing changes. Another contact with the new address is a
    ValidationError on `email_update`/`phone_number_update` (Delighted's names): people are
    never merged behind the caller's back.
    """
    contact = _contact_pick(current, _contacts_named(replace(current, external_id="")))
    if contact is None:
        return None
    changed = []
    for name, value, error_key in (("email", email, "email_update"), ("phone", phone, "phone_number_update")):
        if not value or getattr(contact, name) == value:
            continue
        lookup = "email__iexact" if name == "email" else "phone"
        if Contact.objects.filter(**{lookup: value}).exclude(pk=contact.pk).exists():
            raise ValidationError(
                {error_key: f"Another person already has this {'email' if name == 'email' else 'phone number'}."}
            )
        setattr(contact, name, value)
        changed.append(name)
    if changed:
        try:
            with transaction.atomic():
                contact.save(update_fields=[*changed, "updated_at"])
        except IntegrityError as exc:
            # A concurrent request gave the address to someone else first.
            raise ValidationError({"email_update": "Another person already has this email."}) from exc
    return contact


def invitations_cancel_pending(*, contact: Contact, survey: Survey | None = None, reason: str = "api") -> int:
    """Cancel the contact's invitations that have not gone out yet (of one survey, when given)."""
    pending = Invitation.objects.filter(contact=contact, status=Invitation.Status.SCHEDULED)
    if survey is not None:
        pending = pending.filter(survey=survey)
    return pending.update(status=Invitation.Status.CANCELLED, cancel_reason=reason)


def contact_delete(*, contact: Contact) -> None:
    """Erase a contact with their events, invitations and responses (a data-deletion request)."""
    contact.delete()


def invitation_record(*, contact: Contact, survey: Survey, properties: dict | None = None) -> Invitation:
    """An invitation that is never sent, to hold a response given elsewhere (Delighted's response create)."""
    now = timezone.now()
    invitation = Invitation(
        contact=contact,
        survey=survey,
        channel=Channel.EMAIL if contact.email else Channel.SMS,
        locale=contact.locale,
        properties=properties or {},
        scheduled_at=now,
        expires_at=now + timedelta(days=settings.INVITATION_EXPIRY_DAYS),
        status=Invitation.Status.QUEUED,
    )
    invitation.token_hash = token_hash(invitation_token(invitation.public_id))
    invitation.save()
    return invitation
