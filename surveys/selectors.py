"""Reads of the survey side.

API keys and trigger rules are read on every intake request and change rarely: each web process keeps
its own copies (no round trip, nothing unpickled) while a shared version in Django's cache stays the
same, which costs one cache read per request (per lookup outside requests), and a Bearer key's rate limit is
counted in that same round trip (`api_key_get_active_counted`). Saving, deleting or
revoking a key, a rule or a survey writes a new version, and every process reads afresh from its next
lookup on. Copies are also dropped after `INTAKE_CACHE_SECONDS`: with the in-process cache (no
`CACHE_URL`) a version is seen by its own process only, so another process may use old values until
then; a shared cache (`CACHE_URL` on Redis) forgets at once.
"""

import threading
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache
from itertools import accumulate

from django.conf import settings
from django.core.cache import cache, caches
from django.core.signals import request_finished, request_started
from django.db import connections, router, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from config.cache import cache_get_and_count
from surveys.models import (
    ApiKey,
    Contact,
    EventBatch,
    Invitation,
    Question,
    Response,
    Survey,
    SurveyLink,
    TriggerRule,
)
from surveys.tokens import token_hash

INTAKE_CACHE_SECONDS = 60
INTAKE_VERSION_CACHE_KEY = "surveys:intake-version"


class _IntakeCopies:
    """This process's copies of the active API keys asked for (by hash) and of every trigger rule, read
    under one version. Replaced whole, never changed in place once another thread may see it."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.expires = time.monotonic() + INTAKE_CACHE_SECONDS
        self.api_keys: dict[str, ApiKey] = {}
        self.trigger_rules: list[TriggerRule] | None = None


_copies = _IntakeCopies("")
_copies_lock = threading.Lock()
# The version as this request read it: the key's lookup and the rules' read of one request share one
# cache read. "" inside a request until read; None outside requests (tasks, commands read every time).
_request_version: ContextVar[str | None] = ContextVar("surveys_intake_version", default=None)


@receiver(request_started, dispatch_uid="surveys-intake-version-unread")
def _request_version_unread(sender, **kwargs) -> None:
    _request_version.set("")


@receiver(request_finished, dispatch_uid="surveys-intake-version-outside")
def _request_version_outside(sender, **kwargs) -> None:
    _request_version.set(None)


def _intake_version(counter: tuple[str, int] | None = None) -> tuple[str, int | None]:
    """The shared version, read once per request (every time outside requests); and, when `counter` (a cache
    key and the seconds its window lasts) is given and the version is read now, its new count, counted in the
    same round trip (`config.cache.cache_get_and_count`). The count is None when nothing was counted."""
    version = _request_version.get()
    if version:
        return version, None
    if counter is None:
        read, count = cache.get(INTAKE_VERSION_CACHE_KEY), None
    else:
        read, count = cache_get_and_count(caches["default"], INTAKE_VERSION_CACHE_KEY, *counter)
    if read is None:
        cache.add(INTAKE_VERSION_CACHE_KEY, uuid.uuid4().hex, timeout=None)
        read = cache.get(INTAKE_VERSION_CACHE_KEY, "")
    if version is not None:  # inside a request
        _request_version.set(read)
    return read, count


def _intake_copies(version: str) -> _IntakeCopies:
    """The copies for `version`: the same object while nothing changed, else a new empty one."""
    global _copies
    copies = _copies
    if copies.version != version or copies.expires < time.monotonic():
        with _copies_lock:
            if _copies.version != version or _copies.expires < time.monotonic():
                _copies = _IntakeCopies(version)
            copies = _copies
    return copies


def api_key_get_active(*, raw_key: str) -> ApiKey | None:
    return api_key_get_active_counted(raw_key=raw_key, counter=None)[0]


def api_key_get_active_counted(
    *, raw_key: str, counter: Callable[[ApiKey], tuple[str, int]] | None
) -> tuple[ApiKey | None, int | None]:
    """The active key, and the new count of `counter(key)` (a cache key and its window's seconds: the key's
    rate limit), counted in the round trip that reads the version when this process already keeps a copy of
    the key, of any version (a key's id never changes). The count is None when it could not be taken along:
    the caller counts on its own."""
    key_hash = token_hash(raw_key)
    kept = _copies.api_keys.get(key_hash)
    version, count = _intake_version(counter(kept) if kept is not None and counter is not None else None)
    copies = _intake_copies(version)
    api_key = copies.api_keys.get(key_hash)
    if api_key is None:
        # Unknown keys are not remembered: a stream of made-up keys must not fill the process's memory.
        api_key = ApiKey.objects.filter(key_hash=key_hash, revoked_at__isnull=True).select_related("survey").first()
        if api_key is not None:
            copies.api_keys[key_hash] = api_key
    return api_key, count


def trigger_rules_all() -> list[TriggerRule]:
    """Every trigger rule with its survey, in creation order. Shared by concurrent requests: read only."""
    copies = _intake_copies(_intake_version()[0])
    rules = copies.trigger_rules
    if rules is None:
        rules = copies.trigger_rules = list(TriggerRule.objects.select_related("survey").order_by("pk"))
    return rules


def intake_copies_forget() -> None:
    """Every process reads keys and rules afresh from its next lookup: after a revocation or any change."""
    cache.set(INTAKE_VERSION_CACHE_KEY, uuid.uuid4().hex, timeout=None)
    if _request_version.get() is not None:
        _request_version.set("")  # this request's later lookups read the new version too


def _forget_now_and_on_commit() -> None:
    # Forgotten at once for this transaction's own reads, and again once the change is visible to
    # others: a request reading in between would keep the old rows under the new version.
    intake_copies_forget()
    transaction.on_commit(intake_copies_forget)


@receiver([post_save, post_delete], sender=TriggerRule, dispatch_uid="surveys-forget-trigger-rules")
@receiver([post_save, post_delete], sender=Survey, dispatch_uid="surveys-forget-survey")  # rules and keys carry it
@receiver([post_save, post_delete], sender=ApiKey, dispatch_uid="surveys-forget-api-keys")
def _intake_copy_changed(sender, **kwargs) -> None:
    _forget_now_and_on_commit()


def invitation_get_by_token(*, token: str) -> Invitation | None:
    """The invitation behind a link, or None for unknown, malformed, cancelled or expired links.

    Read with its survey and response (`invitation_response`) in one statement, written in SQL: the
    respondent page runs it on every request, and the ORM spent longer building this statement (1.4 ms
    of CPU, measured in-process on PostgreSQL) than the database took to answer it. The rows become
    model instances as the ORM makes them (`_instance`)."""
    if not token.isalnum() or len(token) > 128:
        return None
    connection = connections[router.db_for_read(Invitation)]
    with connection.cursor() as cursor:
        cursor.execute(
            _by_token_statement(connection.alias),
            [token_hash(token), Invitation.Status.CANCELLED, Invitation.Status.EXPIRED],
        )
        row = cursor.fetchone()  # the hash is unique
    if row is None:
        return None
    ends = _BY_TOKEN_ENDS
    invitation = _instance(connection, Invitation, row[: ends[0]])
    if invitation.expires_at <= timezone.now():
        return None
    invitation.survey = _instance(connection, Survey, row[ends[0] : ends[1]])
    response_values = row[ends[1] :]
    response = _instance(connection, Response, response_values) if response_values[0] is not None else None
    if response is None:
        Invitation.response.related.set_cached_value(invitation, None)  # known to have none: not read again
    else:
        response.invitation = invitation  # and the invitation's `response`, both ways
    return invitation


def _fields(model) -> tuple:
    return model._meta.concrete_fields  # the primary key first


_BY_TOKEN_MODELS = ((Invitation, "i"), (Survey, "s"), (Response, "r"))
# Where each model's columns end in a row of `_by_token_statement`.
_BY_TOKEN_ENDS = list(accumulate(len(_fields(model)) for model, _ in _BY_TOKEN_MODELS))


@lru_cache
def _by_token_statement(alias: str) -> str:
    """`invitation_get_by_token`'s statement, built once per process and database."""
    quote = connections[alias].ops.quote_name
    columns = ", ".join(
        f"{table}.{quote(field.column)}" for model, table in _BY_TOKEN_MODELS for field in _fields(model)
    )
    return (
        f"SELECT {columns} FROM {quote(Invitation._meta.db_table)} i"
        f" JOIN {quote(Survey._meta.db_table)} s ON s.id = i.survey_id"
        f" LEFT JOIN {quote(Response._meta.db_table)} r ON r.invitation_id = i.id"
        " WHERE i.token_hash = %s AND i.status NOT IN (%s, %s)"
    )


@lru_cache
def _converters(alias: str, model) -> list[tuple]:
    """Per concrete field: its column expression and what turns the database's value into the field's, as the
    ORM's compiler applies them (the backend's, then the field's own: JSON, SQLite's dates and UUIDs...)."""
    connection = connections[alias]
    converters = []
    for field in _fields(model):
        column = field.get_col(model._meta.db_table)
        converters.append((column, connection.ops.get_db_converters(column) + column.get_db_converters(connection)))
    return converters


def _instance(connection, model, values):
    converted = []
    for value, (column, converters) in zip(values, _converters(connection.alias, model), strict=True):
        for convert in converters:
            value = convert(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, [field.attname for field in _fields(model)], converted)


def invitation_lock_response(invitation: Invitation) -> Response | None:
    """Lock the invitation's row until the transaction ends, then read its response (written in SQL, as
    `invitation_get_by_token` is: every answer runs both).

    Two statements: the read after the lock sees an answer committed while this one waited for it (a join in
    the locking statement would read the older snapshot)."""
    alias = router.db_for_write(Invitation)  # the lock is taken where the answer is written
    connection = connections[alias]
    quote = connection.ops.quote_name
    locking = " FOR UPDATE" if connection.features.has_select_for_update else ""
    columns = ", ".join(quote(field.column) for field in _fields(Response))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {quote(Invitation._meta.db_table)} WHERE id = %s{locking}", [invitation.pk])
        cursor.execute(
            f"SELECT {columns} FROM {quote(Response._meta.db_table)} WHERE invitation_id = %s", [invitation.pk]
        )
        row = cursor.fetchone()
    if row is None:
        return None
    response = _instance(connection, Response, row)
    response.invitation = invitation
    return response


def invitation_response(invitation: Invitation) -> Response | None:
    """The invitation's response, or None; read with it by `invitation_get_by_token`."""
    return getattr(invitation, "response", None)  # a missing reverse one-to-one raises an AttributeError


def contact_get_by_identifier(*, identifier: str) -> Contact | None:
    """Delighted's person identifiers: `<id>`, `email:<address>` or `phone_number:<E.164>`."""
    if "\x00" in identifier:  # no contact holds it, and PostgreSQL refuses it in a query
        return None
    kind, _, value = identifier.partition(":")
    if not value:
        # Longer digit strings cannot be a 64-bit id (and overflow the database's integer).
        is_id = identifier.isdigit() and len(identifier) <= 18
        return Contact.objects.filter(pk=int(identifier)).first() if is_id else None
    lookup = {"email": "email__iexact", "phone_number": "phone"}.get(kind)
    return Contact.objects.filter(**{lookup: value}).order_by("pk").first() if lookup else None


def contacts_page(
    *,
    survey: Survey | None,
    after_id: int = 0,
    limit: int = 20,
    email: str = "",
    phone: str = "",
    since=None,
    until=None,
) -> list[Contact]:
    """The people a key bound to `survey` may list: those invited to it (none for a key without a survey)."""
    if survey is None:
        return []
    invited = Invitation.objects.filter(contact_id=OuterRef("pk"), survey=survey)
    contacts = Contact.objects.filter(Exists(invited), pk__gt=after_id)
    if email:
        contacts = contacts.filter(email__iexact=email)
    if phone:
        contacts = contacts.filter(phone=phone)
    if since is not None:
        contacts = contacts.filter(created_at__gte=since)
    if until is not None:
        contacts = contacts.filter(created_at__lte=until)
    return list(contacts.order_by("pk")[:limit])


def contacts_last_sent(*, contact_ids: list[int]) -> dict[int, datetime]:
    rows = (
        Invitation.objects.filter(
            contact_id__in=contact_ids,
            # Sent: still open, or expired since (`invitations_expire`).
            status__in=(Invitation.Status.QUEUED, Invitation.Status.EXPIRED),
            message__isnull=False,
        )
        .values("contact_id")
        .annotate(last=Max("scheduled_at"))
    )
    return {row["contact_id"]: row["last"] for row in rows}


def responses_list(
    *,
    survey: Survey | None,
    since=None,
    until=None,
    updated_since=None,
    updated_until=None,
    contact_id: int | None = None,
    contact_email: str = "",
    trend: int | None = None,
    order: str = "asc",
    offset: int = 0,
    limit: int = 20,
) -> list[Response]:
    # Held answers (a machine's, awaiting its browser's confirmation) are nobody's to read yet.
    responses = (
        Response.objects.filter(held_reason="")
        .select_related("contact", "invitation", "survey")
        .prefetch_related("answers__question", "notes")
    )
    # The key's survey binds every read: `trend` narrows within it, never widens past it.
    if survey is None or (trend is not None and trend != survey.pk):
        return []
    responses = responses.filter(survey=survey)
    if since is not None:
        responses = responses.filter(confirmed_at__gte=since)
    if until is not None:
        responses = responses.filter(confirmed_at__lte=until)
    if updated_since is not None:
        responses = responses.filter(updated_at__gte=updated_since)
    if updated_until is not None:
        responses = responses.filter(updated_at__lte=updated_until)
    if contact_id is not None:
        responses = responses.filter(contact_id=contact_id)
    if contact_email:
        responses = responses.filter(contact__email__iexact=contact_email)
    direction, _, field = order.partition(":")
    column = "updated_at" if field == "updated_at" else "confirmed_at"
    prefix = "-" if direction == "desc" else ""
    return list(responses.order_by(f"{prefix}{column}", f"{prefix}pk")[offset : offset + limit])


def response_get(*, pk: int, survey: Survey | None) -> Response | None:
    return (
        Response.objects.select_related("contact", "invitation", "survey")
        .prefetch_related("answers__question", "notes")
        .filter(pk=pk, survey=survey, held_reason="")
        .first()
    )


def questions_for_score(*, survey: Survey, score: int) -> list[Question]:
    """The survey's additional questions that this score is asked, in order, whatever their conditions on earlier
    answers (the web widget weighs those as its person answers)."""
    return [question for question in survey.questions.all() if question.applies_to(score)]


def questions_for_response(*, response: Response) -> list[Question]:
    """The additional questions this answer is asked, in order: its score is in their range and their condition on
    an earlier answer holds with the answers given so far."""
    questions = list(response.survey.questions.all())
    # Most surveys have no such condition: their pages need not read the answers.
    conditional = any(question.show_if_answer for question in questions)
    given = {answer.question_id: answer.value for answer in response.answers.all()} if conditional else {}
    asked, answers = [], {}
    for index, question in enumerate(questions):
        if question.applies_to(response.score) and question.follows(answers):
            asked.append(question)
            # Only an asked question's answer counts: one given before an earlier answer changed is left out.
            if question.pk in given:
                answers[index] = given[question.pk]
    return asked


def contacts_by_email(*, emails: list[str]) -> dict[str, Contact]:
    """Contacts keyed by lower-cased email, for matching suppressions (stored lower-cased) to people."""
    contacts = Contact.objects.filter(email__in=emails) if emails else Contact.objects.none()
    return {contact.email.lower(): contact for contact in contacts}


def latest_open_sms_invitation_exists(*, phone: str, channel: str = "sms") -> bool:
    """The number has a survey SMS (or WhatsApp message, by `channel`) still open for answers: its next message
    on that channel is the survey reply flow's to read."""
    now = timezone.now()
    return Invitation.objects.filter(
        channel=channel, contact__phone=phone, status=Invitation.Status.QUEUED, expires_at__gt=now
    ).exists()


def survey_link_get(*, slug: str) -> SurveyLink | None:
    """The public link of this slug, with its survey; None for an unknown one."""
    if len(slug) > 40:
        return None
    return SurveyLink.objects.select_related("survey").filter(slug=slug).first()


def survey_link_of(*, survey_id: int) -> SurveyLink | None:
    return SurveyLink.objects.filter(survey_id=survey_id).first()


def survey_link_urls(link: SurveyLink) -> dict[str, str]:
    """Where the link, its kiosk mode and its QR codes are, as a person or a printer reaches them (`SITE_URL`)."""
    base = f"{settings.SITE_URL}/l/{link.slug}/"
    return {"url": base, "kiosk_url": f"{base}?kiosk=1", "qr_svg_url": f"{base}qr.svg", "qr_png_url": f"{base}qr.png"}


def contacts_matching(query: str) -> list[Contact]:
    """Contacts whose email, phone, name or external id is `query` (emails and names in any case), or whose id
    it is; at most 20, oldest first: the console's search for a person to export or erase."""
    query = query.strip()
    if not query:
        return []
    found = Q(email__iexact=query) | Q(phone="".join(query.split())) | Q(name__iexact=query) | Q(external_id=query)
    if query.isdigit() and len(query) <= 18:
        found |= Q(pk=int(query))
    return list(Contact.objects.filter(found).order_by("pk")[:20])


def event_batch_get(*, api_key: ApiKey, public_id: uuid.UUID) -> EventBatch | None:
    """A staged batch of events, seen only by the key that sent it."""
    return EventBatch.objects.filter(api_key=api_key, public_id=public_id).first()


def api_keys_with_batches():
    """API keys, each with its staged batches still waiting for a worker (how many, since when) and failed.

    Counted by subqueries on the batches of one status, so the expanded ones a busy key keeps for a week are
    never read."""

    def of_key(status: str):
        return EventBatch.objects.filter(api_key=OuterRef("pk"), status=status).order_by().values("api_key")

    waiting = of_key(EventBatch.Status.ACCEPTED)
    return ApiKey.objects.annotate(
        batches_waiting=Coalesce(Subquery(waiting.annotate(n=Count("pk")).values("n")), 0),
        batches_waiting_since=Subquery(waiting.annotate(since=Min("accepted_at")).values("since")),
        batches_failed=Coalesce(Subquery(of_key(EventBatch.Status.FAILED).annotate(n=Count("pk")).values("n")), 0),
    )
