"""Reads of the survey side."""

from datetime import datetime

from django.db.models import Max
from django.utils import timezone

from surveys.models import ApiKey, Contact, Invitation, Question, Response, Survey
from surveys.tokens import token_hash


def api_key_get_active(*, raw_key: str) -> ApiKey | None:
    return ApiKey.objects.filter(key_hash=token_hash(raw_key), revoked_at__isnull=True).select_related("survey").first()


def invitation_get_by_token(*, token: str) -> Invitation | None:
    """The invitation behind a link, or None for unknown, malformed, cancelled or expired links."""
    if not token.isalnum() or len(token) > 128:
        return None
    invitation = (
        Invitation.objects.filter(token_hash=token_hash(token))
        .exclude(status__in=[Invitation.Status.CANCELLED, Invitation.Status.EXPIRED])
        .select_related("survey", "contact")
        .first()
    )
    if invitation is None or invitation.expires_at <= timezone.now():
        return None
    return invitation


def contact_get_by_identifier(*, identifier: str) -> Contact | None:
    """Delighted's person identifiers: `<id>`, `email:<address>` or `phone_number:<E.164>`."""
    kind, _, value = identifier.partition(":")
    if not value:
        # Longer digit strings cannot be a 64-bit id (and overflow the database's integer).
        is_id = identifier.isdigit() and len(identifier) <= 18
        return Contact.objects.filter(pk=int(identifier)).first() if is_id else None
    lookup = {"email": "email__iexact", "phone_number": "phone"}.get(kind)
    return Contact.objects.filter(**{lookup: value}).order_by("pk").first() if lookup else None


def contacts_page(
    *, after_id: int = 0, limit: int = 20, email: str = "", phone: str = "", since=None, until=None
) -> list[Contact]:
    contacts = Contact.objects.filter(pk__gt=after_id)
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
        Invitation.objects.filter(contact_id__in=contact_ids, status=Invitation.Status.QUEUED, message__isnull=False)
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
    responses = Response.objects.select_related("contact", "invitation", "survey").prefetch_related("answers__question")
    if trend is not None:
        responses = responses.filter(survey_id=trend)
    elif survey is not None:
        responses = responses.filter(survey=survey)
    else:
        return []
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
        .prefetch_related("answers__question")
        .filter(pk=pk, survey=survey)
        .first()
    )


def questions_for_score(*, survey: Survey, score: int) -> list[Question]:
    """The survey's additional questions that this score is asked, in order."""
    return [question for question in survey.questions.all() if question.applies_to(score)]


def contacts_by_email(*, emails: list[str]) -> dict[str, Contact]:
    """Contacts keyed by lower-cased email, for matching suppressions (stored lower-cased) to people."""
    contacts = Contact.objects.filter(email__in=emails) if emails else Contact.objects.none()
    return {contact.email.lower(): contact for contact in contacts}
