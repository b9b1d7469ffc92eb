"""Contacts: find one by external id, email or phone and update it with what was given, change its
addresses (erasing one is `surveys.services.privacy`'s).

Never merges two people behind the caller's back; schedules nothing.
"""

import functools
from dataclasses import dataclass, field, replace

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.db.models.expressions import Col

from surveys.models import Contact
from surveys.scales import pick_locale
from surveys.services.rows import rows_insert


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


def contact_identifiers(data: ContactData) -> list[tuple[str, str]]:
    return [(name, value) for name in IDENTIFIERS if (value := getattr(data, name))]


def contacts_named(data: ContactData, *, lock: bool = False) -> list[Contact]:
    """Every contact owning one of the given identifiers, in one query; with `lock`, their rows are
    locked until the transaction ends (in id order, so that two lookups cannot deadlock).

    The lock is `FOR NO KEY UPDATE`: it serialises those who change or decide for the contact, and
    lets others insert rows that point at it (an event, an invitation: their foreign key check takes
    `FOR KEY SHARE`), so a transaction that inserted an event before locking its contact cannot
    deadlock with another doing the same.

    Written in SQL and read from the cursor: every event runs this lookup, and the ORM took three times as
    long to build the statement as the database took to answer it."""
    named = contact_identifiers(data)
    if not named:
        return []
    # On the primary, as the ORM's select_for_update() would be: the row is locked where it is written.
    alias = router.db_for_write(Contact)
    connection = connections[alias]
    quote, meta = connection.ops.quote_name, Contact._meta
    columns, names, converted = _contact_reading(alias)
    where = " OR ".join(f"{quote(meta.get_field(name).column)} = %s" for name, _ in named)
    sql = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {where} ORDER BY {quote(meta.pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql + _locking(connection, lock), [value for _, value in named])
        rows = cursor.fetchall()
    contacts = []
    for row in rows:
        values = list(row)
        for index, converters, column in converted:
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        contacts.append(Contact.from_db(alias, names, values))
    return contacts


@functools.cache
def _contact_reading(alias: str) -> tuple[str, list[str], list[tuple[int, list, Col]]]:
    """The contact's selected columns, their attnames, and the database's and fields' converters of those read
    back in another form (the properties' JSON, SQLite's dates): built once per database, where a raw queryset
    built them again, with the model's init order, on every lookup (half the lookup's CPU)."""
    connection, meta = connections[alias], Contact._meta
    converted = []
    for index, model_field in enumerate(meta.concrete_fields):
        column = model_field.get_col(meta.db_table)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if converters:
            converted.append((index, converters, column))
    columns = ", ".join(connection.ops.quote_name(model_field.column) for model_field in meta.concrete_fields)
    return columns, [model_field.attname for model_field in meta.concrete_fields], converted


def _locking(connection, lock: bool) -> str:
    if not (lock and connection.features.has_select_for_update):
        return ""
    return " FOR NO KEY UPDATE" if connection.features.has_select_for_no_key_update else " FOR UPDATE"


def contact_lock(contact: Contact) -> None:
    """Lock the contact's row until the transaction ends, as `contacts_named(lock=True)` does."""
    alias = router.db_for_write(Contact)
    connection = connections[alias]
    quote, meta = connection.ops.quote_name, Contact._meta
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(meta.pk.column)} FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} = %s"
            + _locking(connection, lock=True),
            [contact.pk],
        )


def contact_pick(data: ContactData, candidates: list[Contact]) -> Contact | None:
    """The contact the data speaks of: matched by external id, then email, then phone."""
    for name, value in contact_identifiers(data):
        for contact in candidates:
            if getattr(contact, name) == value:
                return contact
    return None


def contact_upsert(*, data: ContactData) -> Contact:
    """Find the contact by external id, email or phone, and update it with what was given."""
    return contact_get_or_create(data)[0]


def contact_new(data: ContactData) -> Contact:
    return Contact(
        email=data.email,
        phone=data.phone,
        name=data.name,
        locale=pick_locale(data.locale),
        timezone=data.timezone,
        external_id=data.external_id,
        properties=data.properties,
    )


def contact_get_or_create(data: ContactData, *, savepoint: bool = True, lock: bool = False) -> tuple[Contact, bool]:
    """The contact and whether it is new. Without `savepoint`, a concurrent creation of the same
    contact raises IntegrityError and aborts the caller's transaction, which must then start over.

    With `lock`, a known contact that the data changes is read again with its row locked until the
    transaction ends, and changed from that copy: two concurrent changes cannot merge properties into
    one stale copy. A contact the data leaves as it is is not locked, so its repeated events do not
    wait for each other."""
    if not (data.email or data.phone or data.external_id):
        raise ValidationError({"contact": "Give at least an email, a phone number or an external id."})
    candidates = contacts_named(data)
    contact = contact_pick(data, candidates)
    if contact is not None and lock and _contact_changes(contact, data, candidates):
        candidates = contacts_named(data, lock=True)
        contact = contact_pick(data, candidates)
    if contact is None and not savepoint:
        return rows_insert([contact_new(data)])[0], True
    if contact is None:
        try:
            with transaction.atomic():
                contact = contact_new(data)
                contact.save(force_insert=True)
                return contact, True
        except IntegrityError:
            # A concurrent request created the same contact first.
            candidates = contacts_named(data)
            contact = contact_pick(data, candidates)
            if contact is None:
                raise
    changes = _contact_changes(contact, data, candidates)
    if changes:
        for name, value in changes.items():
            setattr(contact, name, value)
        contact.save(update_fields=[*changes, "updated_at"])
    return contact, False


def _contact_changes(contact: Contact, data: ContactData, candidates: list[Contact]) -> dict:
    """What `data` changes in `contact`, by field: what it gives and the contact lacks or holds otherwise,
    its properties merged into the contact's; never an address or id that another candidate owns."""
    changes = {}
    for name in ("email", "phone", "name", "timezone", "external_id"):
        value = getattr(data, name)
        if not value or getattr(contact, name) == value:
            continue
        if name in ("email", "external_id") and any(
            other.pk != contact.pk and getattr(other, name) == value for other in candidates
        ):
            # Another contact owns this address or id: keep both people as they are rather than merge them.
            continue
        changes[name] = value
    if data.locale and contact.locale != pick_locale(data.locale):
        changes["locale"] = pick_locale(data.locale)
    if data.properties and {**contact.properties, **data.properties} != contact.properties:
        changes["properties"] = {**contact.properties, **data.properties}
    return changes


def contact_addresses_change(*, current: ContactData, email: str = "", phone: str = "") -> Contact | None:
    """Give the contact found by `current` (its email, else its phone) a new email and/or phone.

    Nobody found: None, and nothing changes. Another contact with the new address is a
    ValidationError on `email_update`/`phone_number_update` (Delighted's names): people are
    never merged behind the caller's back.
    """
    contact = contact_pick(current, contacts_named(replace(current, external_id="")))
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
