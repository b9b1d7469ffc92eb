"""The web widget: whether a visitor of the company's site is asked now, and what they answer.

The snippet (`static/web/snippet.js`) asks `widget_decide` through `/web/v1/<key>/survey`. A card shown is an
invitation on channel `web` (no message is sent), created in the decision's transaction: it counts against
the person's fatigue window like an email or an SMS does, both ways. Answers go through
`surveys.services.responses`, as the respondent page's do: the case, the rollups and the webhooks follow.
"""

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.models import Channel
from notifications.selectors import recipient_opted_out
from surveys.models import VISITOR_PREFIX, AnswerChannel, Contact, Invitation, PublishableKey, Question, Response
from surveys.scales import pick_locale
from surveys.selectors import invitation_get_by_token, questions_for_response, questions_for_score
from surveys.services import fatigue
from surveys.services.contacts import ContactData, contact_new, contact_pick, contacts_named
from surveys.services.responses import answer_save, response_comment, response_submit
from surveys.tokens import invitation_token, token_hash

# Why a card was not shown: the snippet's answer names it (`reason`), the docs list them.
SURVEY_PAUSED = "survey_paused"
SAMPLED_OUT = "sampled_out"
TOO_EARLY = "too_early"
RECENTLY_ASKED = "recently_asked"
ALREADY_ANSWERED = "already_answered"
THROTTLED = fatigue.THROTTLED
OPTED_OUT = fatigue.OPTED_OUT


@dataclass(frozen=True)
class Visitor:
    """Who the snippet says is on the page: `email` (Delighted's), else the snippet's anonymous `visitor_id`."""

    email: str = ""
    name: str = ""
    visitor_id: str = ""
    created_at: datetime | None = None
    locale: str = ""
    properties: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DisplayOptions:
    """Delighted's display options; None leaves the publishable key's default."""

    sample_factor: float | None = None
    recurring_period_seconds: int | None = None
    only_once: bool = False  # Delighted's `recurringPeriod: false`
    initial_delay_seconds: int = 0
    force_display: bool = False


@dataclass(frozen=True)
class Decision:
    invitation: Invitation | None
    token: str = ""
    reason: str = ""


def _contact_for(visitor: Visitor) -> Contact:
    """The person behind the visitor, locked until the decision commits (two tabs decide one at a time).

    A known contact is never changed from the page: anyone may call the snippet with any email address,
    so the widget reads contacts and creates new ones, it does not rename or re-describe existing ones.
    """
    if visitor.email:
        # Pages write addresses as their users typed them: the person is found whatever the case.
        known = Contact.objects.select_for_update().filter(email__iexact=visitor.email).order_by("pk").first()
        if known is not None:
            return known
        data = ContactData(email=visitor.email.lower(), name=visitor.name, locale=visitor.locale)
    elif visitor.visitor_id:
        data = ContactData(external_id=VISITOR_PREFIX + visitor.visitor_id, name=visitor.name, locale=visitor.locale)
    else:
        raise ValidationError({"visitor": ["Give the person's email or the snippet's visitor id."]})
    contact = contact_pick(data, contacts_named(data, lock=True))
    if contact is not None:
        return contact
    try:
        with transaction.atomic():
            contact = contact_new(data)
            contact.save(force_insert=True)
            return contact
    except IntegrityError:
        # Another request created the same person first: theirs it is.
        return contact_pick(data, contacts_named(data, lock=True))


def _ineligible_reason(
    *, key: PublishableKey, contact: Contact, visitor: Visitor, options: DisplayOptions, now: datetime, coin: float
) -> str:
    factor = key.sample_factor if options.sample_factor is None else options.sample_factor
    if coin >= factor:
        return SAMPLED_OUT
    if visitor.created_at and now < visitor.created_at + timedelta(seconds=options.initial_delay_seconds):
        return TOO_EARLY
    period = (
        timedelta(days=key.recurring_period_days)
        if options.recurring_period_seconds is None
        else timedelta(seconds=options.recurring_period_seconds)
    )
    last = (
        Invitation.objects.filter(contact=contact, survey_id=key.survey_id, channel=AnswerChannel.WEB)
        .exclude(status=Invitation.Status.CANCELLED)
        .order_by("-scheduled_at")
        .first()
    )
    if last is not None and (options.only_once or now - last.scheduled_at < period):
        return ALREADY_ANSWERED if Response.objects.filter(invitation=last).exists() else RECENTLY_ASKED
    if contact.email and recipient_opted_out(channel=Channel.EMAIL, recipient=contact.email):
        return OPTED_OUT
    if fatigue.contact_is_throttled(contact=contact, survey=key.survey, at=now):
        return THROTTLED
    return ""


def _properties(visitor: Visitor) -> dict:
    """The snippet's properties as the invitation keeps them: Delighted's `questionProductName` becomes the
    `question_product_name` the respondent page and the API already read; `locale` is the invitation's own."""
    properties = {name: value for name, value in visitor.properties.items() if name not in ("locale",)}
    product = properties.pop("questionProductName", None)
    if isinstance(product, str) and product.strip():
        properties["question_product_name"] = product.strip()[:200]
    return properties


@transaction.atomic
def widget_decide(
    *,
    publishable_key: PublishableKey,
    visitor: Visitor,
    options: DisplayOptions,
    coin: Callable[[], float] = random.random,
) -> Decision:
    """Show the key's survey to the visitor now, or say why not.

    In order: a paused survey never shows; `force_display` (Delighted's, for testing) skips every other rule;
    then sampling, the initial delay after `created_at`, the recurring period of this widget (or once ever),
    an opt-out of the person's email, and the fatigue window across every channel and survey.
    """
    survey = publishable_key.survey
    if not survey.is_active:
        return Decision(None, reason=SURVEY_PAUSED)
    contact = _contact_for(visitor)
    now = timezone.now()
    if not options.force_display:
        reason = _ineligible_reason(
            key=publishable_key, contact=contact, visitor=visitor, options=options, now=now, coin=coin()
        )
        if reason:
            return Decision(None, reason=reason)
    public_id = uuid.uuid4()
    token = invitation_token(public_id)
    invitation = Invitation.objects.create(
        public_id=public_id,
        token_hash=token_hash(token),
        contact=contact,
        survey=survey,
        channel=AnswerChannel.WEB,
        locale=pick_locale(visitor.locale or contact.locale),
        properties=_properties(visitor),
        scheduled_at=now,
        expires_at=now + timedelta(hours=settings.WEB_WIDGET_ANSWER_HOURS),
        # Shown is as good as sent: the card is the message. The dispatcher only sends scheduled ones.
        status=Invitation.Status.QUEUED,
    )
    return Decision(invitation, token=token)


def widget_invitation(*, publishable_key: PublishableKey, token: str) -> Invitation:
    """The card a token names, if this key showed it and it still takes answers."""
    invitation = invitation_get_by_token(token=token) if isinstance(token, str) else None
    if (
        invitation is None
        or invitation.channel != AnswerChannel.WEB
        or invitation.survey_id != publishable_key.survey_id
    ):
        raise ValidationError({"token": ["This survey is closed or was not shown by this key."]})
    return invitation


def widget_answer_score(*, invitation: Invitation, score: int) -> tuple[Response, list[Question]]:
    """Record or change the card's score; returns the answer and the additional questions its score asks (with
    their conditions on earlier answers, which the card weighs as the person answers)."""
    response = response_submit(invitation=invitation, score=score)
    return response, questions_for_score(survey=invitation.survey, score=response.score)


def _answered(invitation: Invitation) -> Response:
    response = Response.objects.filter(invitation=invitation).first()
    if response is None:
        raise ValidationError({"score": ["Give the score first."]})
    return response


def widget_answer_comment(*, invitation: Invitation, comment: str) -> Response:
    if "\x00" in comment:
        # PostgreSQL cannot store U+0000 in text.
        raise ValidationError({"comment": ["This text holds a character that cannot be saved."]})
    return response_comment(response=_answered(invitation), comment=comment)


def widget_answer_question(*, invitation: Invitation, question_id: int, value: str | list[str]) -> None:
    response = _answered(invitation)
    question = next(
        (item for item in questions_for_response(response=response) if item.pk == question_id),
        None,
    )
    if question is None:
        raise ValidationError({"question": ["This question is not asked for this score and these answers."]})
    try:
        answer_save(response=response, question=question, value=value)
    except ValidationError as exc:
        raise ValidationError({"value": exc.messages}) from None
