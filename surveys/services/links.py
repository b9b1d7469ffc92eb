"""A survey's public link `/l/<slug>/` and its kiosk mode: create and change the link, start an answer given on it,
keep the email of a respondent who may be contacted, end a kiosk answer.

An answer on the link is an answer like any other: an anonymous contact and an invitation that was never sent
(channel `link` or `kiosk`) hold it, and `surveys.services.responses` records it, so cases, rollups and webhooks
follow through the same outbox as the respondent page's answers.
"""

import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from surveys.models import AnswerChannel, Contact, Invitation, Response, Survey, SurveyLink
from surveys.services.responses import PageOutcome, response_submit_from_page
from surveys.tokens import invitation_token, token_hash

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")
# A kiosk's answer can be continued (reason, questions) this long; then its pages are gone, so the next person
# at the device cannot go Back into it.
KIOSK_ANSWER_MINUTES = 15


def _slug_new(survey: Survey) -> str:
    """A readable slug with a random tail: "store-csat-4f9a1c" (the name alone would clash, and be guessed)."""
    base = slugify(survey.name)[:30].strip("-")
    tail = secrets.token_hex(3)
    return f"{base}-{tail}" if base else f"survey-{tail}"


def _slug_clean(slug: str, *, link: SurveyLink | None) -> str:
    slug = slug.strip().lower()
    if not SLUG_PATTERN.match(slug):
        raise ValidationError(
            {
                "slug": _(
                    "Use 3 to 40 lowercase letters, digits and hyphens, starting and ending with a letter or digit."
                )
            }
        )
    taken = SurveyLink.objects.filter(slug=slug)
    if link is not None and link.pk:
        taken = taken.exclude(pk=link.pk)
    if taken.exists():
        raise ValidationError({"slug": _("Another survey's link already uses this name.")})
    return slug


@transaction.atomic
def survey_link_save(
    *,
    survey: Survey,
    slug: str | None = None,
    is_enabled: bool | None = None,
    kiosk_enabled: bool | None = None,
    ask_contact: bool | None = None,
) -> SurveyLink:
    """Create the survey's public link (a generated slug unless one is given) or change it; None keeps a field.

    A "did we fix it?" survey asks about one customer's case, so it never gets a public link. Changing the slug
    retires the old address (and the QR codes printed with it).
    """
    if survey.is_fix_check:
        raise ValidationError({"survey": 'A "did we fix it?" survey is answered from its case, not a public link.'})
    link = SurveyLink.objects.select_for_update().filter(survey=survey).first() or SurveyLink(survey=survey)
    if slug is not None:
        link.slug = _slug_clean(slug, link=link)
    elif not link.slug:
        link.slug = _slug_new(survey)
    for name, value in (("is_enabled", is_enabled), ("kiosk_enabled", kiosk_enabled), ("ask_contact", ask_contact)):
        if value is not None:
            setattr(link, name, value)
    try:
        with transaction.atomic():
            link.save()
    except IntegrityError:
        # Two saves raced for one slug: the loser is told like any clash.
        raise ValidationError({"slug": _("Another survey's link already uses this name.")}) from None
    return link


def link_answer_start(
    *,
    link: SurveyLink,
    score: int,
    kiosk: bool,
    locale: str,
    user_agent: str = "",
    client: str = "",
) -> tuple[Invitation, PageOutcome]:
    """Record the score of a new answer on the link: a contact of its own, an invitation that holds it (channel
    `link`, or `kiosk`), and the respondent page's rules for the score (a machine's answer is held). Nothing is
    written when the score is off the scale or the link closed."""
    survey = link.survey
    scale = survey.scale
    if score not in scale.scores:
        raise ValidationError({"score": f"Choose a score from {scale.low} to {scale.high}."})
    if not (link.is_enabled and survey.is_active) or (kiosk and not link.kiosk_enabled):
        raise ValidationError({"link": "This survey link is closed."})
    now = timezone.now()
    lasts = timedelta(minutes=KIOSK_ANSWER_MINUTES) if kiosk else timedelta(days=settings.INVITATION_EXPIRY_DAYS)
    with transaction.atomic():
        contact = Contact.objects.create(locale=locale)
        invitation = Invitation(
            contact=contact,
            survey=survey,
            channel=AnswerChannel.KIOSK if kiosk else AnswerChannel.LINK,
            locale=locale,
            properties={"link": link.slug},
            scheduled_at=now,
            expires_at=now + lasts,
            status=Invitation.Status.QUEUED,
        )
        invitation.token_hash = token_hash(invitation_token(invitation.public_id))
        invitation.save()
        outcome = response_submit_from_page(invitation=invitation, score=score, user_agent=user_agent, client=client)
    return invitation, outcome


@transaction.atomic
def link_contact_set(*, response: Response, email: str) -> Contact:
    """Keep the email a respondent on a public link left to be contacted at: their answer becomes reachable.

    A known customer's address moves the answer to that customer (their history, fatigue and replies follow);
    otherwise the answer's own anonymous contact takes the address. An empty `email` changes nothing.
    """
    email = email.strip()
    contact = response.contact
    if not email or contact.email.lower() == email.lower():
        return contact
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"contact_email": "Enter a valid email address."}) from None
    known = Contact.objects.filter(email__iexact=email).exclude(pk=contact.pk).first()
    if known is None:
        contact.email = email[:254]
        contact.save(update_fields=["email", "updated_at"])
        return contact
    anonymous = contact
    Invitation.objects.filter(pk=response.invitation_id).update(contact=known)
    Response.objects.filter(pk=response.pk).update(contact=known)
    response.contact = known
    # The answer's own contact held nothing else (it was made for this answer and has no address).
    if not anonymous.email and not anonymous.phone and not anonymous.invitations.exists():
        anonymous.delete()
    return known


def kiosk_answer_end(*, invitation: Invitation) -> None:
    """A kiosk answer is finished (its thank-you): its pages close now, for the next person at the device."""
    if invitation.channel == AnswerChannel.KIOSK:
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
