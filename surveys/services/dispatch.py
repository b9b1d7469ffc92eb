"""Writes of dispatch: claim due invitations and queue their rendered email or SMS.

Talks to no provider: it hands rendered content to `notifications` and keeps the `Message`.
"""

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone
from django.utils.html import escape

from notifications.models import PHONE_CHANNELS, Channel, Message
from notifications.services.emails import email_render, unsubscribe_headers, unsubscribe_token_new, unsubscribe_url
from notifications.services.queue import message_queue, messages_queue, messages_sent_in_batches
from notifications.sms_text import gsm_safe
from surveys.branding import Brand, branding_for
from surveys.models import Contact, Invitation, Survey
from surveys.scales import score_buttons
from surveys.services.fatigue import contact_time_zones, invitations_send_blocks, sms_window_next_open
from surveys.tokens import invitation_token
from surveys.wording import WORDING

logger = logging.getLogger(__name__)

# A reminder follows a first message that left; a bounced or cancelled one is not chased.
REMINDABLE_MESSAGE_STATUSES = (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.UNKNOWN)


def survey_link(invitation: Invitation, score: int | None = None) -> str:
    url = f"{settings.SITE_URL}/s/{invitation_token(invitation.public_id)}/"
    return url if score is None else f"{url}?score={score}"


# What may fill a WhatsApp template's {{1}}, {{2}}... (TWILIO_WHATSAPP_CONTENT_VARIABLES names them in order).
WHATSAPP_VARIABLES = ("question", "link", "link_path", "scale_low", "scale_high", "product")


def whatsapp_template(invitation: Invitation, *, question: str, link: str) -> dict:
    """The approved Content template of a WhatsApp invitation in its locale, with its variables filled in order.

    WhatsApp lets a business open a conversation only with a template Meta approved, so a missing one is a
    configuration error (the invitation is dropped with that reason), never a free-form message that
    WhatsApp would refuse (63016). A quick-reply button of the template answers with its id: a score's
    button has the score as its id (docs/whatsapp.md).
    """
    content_sid = (invitation.locale == "fr" and settings.TWILIO_WHATSAPP_CONTENT_SID_FR) or (
        settings.TWILIO_WHATSAPP_CONTENT_SID
    )
    if not content_sid:
        raise ImproperlyConfigured("TWILIO_WHATSAPP_CONTENT_SID is not set: WhatsApp invitations need a template")
    survey, scale = invitation.survey, invitation.survey.scale
    product_name = invitation.properties.get("question_product_name", "")
    values = {
        "question": question,
        "link": link,
        "link_path": link.removeprefix(f"{settings.SITE_URL}/s/"),
        "scale_low": str(scale.low),
        "scale_high": str(scale.high),
        "product": (product_name if isinstance(product_name, str) else "") or survey.product_name or survey.name,
    }
    names = settings.TWILIO_WHATSAPP_CONTENT_VARIABLES
    unknown = [name for name in names if name not in values]
    if unknown:
        raise ImproperlyConfigured(
            f"TWILIO_WHATSAPP_CONTENT_VARIABLES names {', '.join(unknown)};"
            f" choose among {', '.join(WHATSAPP_VARIABLES)}"
        )
    return {"content_sid": content_sid, "variables": {str(n): values[name] for n, name in enumerate(names, 1)}}


def invitation_preview(*, survey: Survey, locale: str, channel: str, contact: Contact | None = None) -> dict:
    """The `message_queue` arguments of an invitation of `survey` in `locale` by `channel`, rendered exactly as
    the dispatcher would, but neither stored nor sent: the invitation has no row, so its links lead nowhere."""
    contact = contact or Contact(name="Ana", email="ana@example.com", phone="+33612345678", locale=locale)
    invitation = Invitation(survey=survey, contact=contact, channel=channel, locale=locale)
    return InvitationRenderer().render(invitation, reminder=False)


# Stand-ins for what differs between two emails of one survey, locale and product: the survey's email is rendered
# once with them in place, then each invitation's values replace them (HTML-escaped in the HTML part, as the
# template's autoescaping would). Private-use characters: no escaping, formatting or real text produces them.
_SLOT = "\ue000{}\ue000"
_SLOTS = re.compile("\ue000(name|link|unsubscribe)\ue000")


def _email_context(
    invitation: Invitation,
    *,
    brand: Brand,
    question: str,
    product_name: str,
    reminder: bool,
    name: str,
    link: str,
    unsubscribe: str,
) -> dict:
    """The invitation email's template context; `name`, `link` and `unsubscribe` (the token) are the contact's."""
    survey, locale, scale = invitation.survey, invitation.locale, invitation.survey.scale
    words = WORDING[locale]
    prefix = words["reminder_prefix"] if reminder else ""
    return {
        "question": question,
        "intro": words["email_intro"].format(name=name) if name else words["email_intro_unnamed"],
        # Thumbs are not numbers: "tap a number" would not say what to tap.
        "outro": words["email_outro_symbols"] if scale.symbols else words["email_outro"],
        "subject": prefix
        + words["email_subject"].format(product_name=product_name or survey.product_name or survey.name),
        # The respondent page's buttons, so that the email shows what the page shows (👍/👎 for thumbs).
        "buttons": [
            {**button, "url": f"{link}?score={button['score']}"}
            for button in score_buttons(scale, locale, survey.end_labels(locale))
        ],
        # Symbol buttons carry their own words; numbered ones need the scale's end labels.
        "end_labels": not scale.symbols,
        "low_label": survey.end_labels(locale)[0],
        "high_label": survey.end_labels(locale)[1],
        "locale": locale,
        "unsubscribe_url": unsubscribe_url(unsubscribe, locale),
        "unsubscribe_label": words["unsubscribe_label"],
        "brand": brand,
    }


def _fill(parts: list[str], values: dict[str, str]) -> str:
    # `re.split` with a group: the literal text at even positions, a slot's name at odd ones.
    return "".join(values[part] if n % 2 else part for n, part in enumerate(parts))


class InvitationRenderer:
    """Renders invitations into `message_queue` arguments, each survey's email template once per survey, locale,
    product and greeting (named or not): a batch of a survey's invitations pays the template engine once, then
    fills in each contact's name, survey link and unsubscribe token. One per batch: branding read then is used
    for the whole batch."""

    def __init__(self) -> None:
        self._emails: dict[tuple, tuple[str, list[str], list[str]]] = {}
        self._brands: dict[int, Brand] = {}

    def _brand(self, survey: Survey) -> Brand:
        if survey.pk not in self._brands:
            self._brands[survey.pk] = branding_for(survey.pk)
        return self._brands[survey.pk]

    def render(self, invitation: Invitation, *, reminder: bool) -> dict:
        """The `message_queue` arguments of an invitation in its locale; a reminder is flagged as such."""
        survey, contact = invitation.survey, invitation.contact
        locale = invitation.locale
        words = WORDING[locale]
        product_name = invitation.properties.get("question_product_name", "")
        product_name = product_name if isinstance(product_name, str) else ""  # rows stored before intake checked it
        question = survey.question(locale, product_name)
        scale = survey.scale
        prefix = words["reminder_prefix"] if reminder else ""
        # One HMAC for the link, not one per score button.
        link = survey_link(invitation)
        if invitation.channel == Channel.WHATSAPP:
            # The template is what WhatsApp shows; the text, as an SMS would say it, is what the admin and the
            # console transport show. No quiet-hours-free pass: the contact's zones go with it as with an SMS.
            text = prefix + words["sms_body"].format(question=question, low=scale.low, high=scale.high, link=link)
            return {
                "channel": Channel.WHATSAPP,
                "recipient": contact.phone,
                "body_text": text,
                "template": whatsapp_template(invitation, question=question, link=link),
                "time_zones": contact_time_zones(contact),
            }
        if invitation.channel == Channel.SMS:
            text = prefix + words["sms_body"].format(question=question, low=scale.low, high=scale.high, link=link)
            # The signature says who is asking before anything else.
            brand = self._brand(survey)
            text = f"{brand.sms_signature}: {text}" if brand.sms_signature else text
            # The contact's zones go with the text: its quiet hours are checked again right before the provider call.
            return {
                "channel": Channel.SMS,
                "recipient": contact.phone,
                "body_text": gsm_safe(text),
                "time_zones": contact_time_zones(contact),
            }
        subject, text, html = self._email(invitation, question=question, product_name=product_name, reminder=reminder)
        # One opaque token per email: the unsubscribe link names no address and only its hash is kept.
        token, token_hash = unsubscribe_token_new()
        values = {"name": contact.name, "link": link, "unsubscribe": token}
        brand = self._brand(survey)
        return {
            "channel": Channel.EMAIL,
            "recipient": contact.email,
            "subject": subject,
            "body_text": _fill(text, values),
            "body_html": _fill(html, {slot: escape(value) for slot, value in values.items()}),
            "headers": unsubscribe_headers(token, locale),
            "unsubscribe_hash": token_hash,
            "from_email": brand.from_email,
            "reply_to": brand.reply_to,
        }

    def _email(
        self, invitation: Invitation, *, question: str, product_name: str, reminder: bool
    ) -> tuple[str, list[str], list[str]]:
        """The email's subject, and its text and HTML split around the slots, rendered once per key."""
        named = bool(invitation.contact.name)
        key = (invitation.survey.pk, invitation.locale, product_name, reminder, named)
        if key not in self._emails:
            context = _email_context(
                invitation,
                brand=self._brand(invitation.survey),
                question=question,
                product_name=product_name,
                reminder=reminder,
                **{slot: _SLOT.format(slot) for slot in ("link", "unsubscribe")},
                name=_SLOT.format("name") if named else "",
            )
            subject, text, html = email_render(template="surveys/invitation_email", context=context)
            # The subject names no contact: a slot there would go out as is.
            assert not _SLOTS.search(subject), "the invitation subject may not hold the contact's values"
            self._emails[key] = (subject, _SLOTS.split(text), _SLOTS.split(html))
        return self._emails[key]


def _invitation_failed(invitation: Invitation, exc: Exception) -> None:
    """One invitation that cannot be rendered or queued is dropped with its reason, never its batch:
    the reason stays on the row (`cancel_reason`, in the admin) and in the log (no token, no address)."""
    logger.exception("invitation %s could not be rendered or queued; dropped", invitation.pk)
    invitation.status = Invitation.Status.CANCELLED
    invitation.cancel_reason = f"failed: {type(exc).__name__}"[:30]


def _isolated(invitation: Invitation, work, *, on_failure) -> bool:
    """Run `work` in a savepoint of its own; on failure undo only it and hand the invitation to `on_failure`."""
    try:
        with transaction.atomic():
            work()
    except Exception as exc:  # noqa: BLE001 - whatever one row holds must not stop the other rows
        on_failure(invitation, exc)
        return False
    return True


def _reminder_failed(invitation: Invitation, exc: Exception) -> None:
    # The first message left and its link works: only the reminder is given up (never retried).
    logger.exception("reminder of invitation %s could not be rendered or queued; not sent", invitation.pk)
    invitation.reminded_at = timezone.now()
    invitation.save(update_fields=["reminded_at"])


def _invitations_queue(rendered: list[tuple[Invitation, dict]]) -> list[Invitation]:
    """Queue the messages of `rendered` invitations in one statement and point each invitation at its message;
    returns those queued. Should that statement fail, each is queued in a savepoint of its own, so that only an
    invitation whose message cannot be stored is dropped (with its reason), never the batch."""
    if not rendered:
        return []
    try:
        with transaction.atomic():
            messages = messages_queue([content for _, content in rendered])
    except Exception:  # noqa: BLE001 - found again below, one invitation at a time
        logger.warning("queuing a batch of %d invitations failed; queuing them one by one", len(rendered))
        queued = []
        for invitation, content in rendered:

            def queue(invitation=invitation, content=content) -> None:
                invitation.message = message_queue(**content)

            if _isolated(invitation, queue, on_failure=_invitation_failed):
                queued.append(invitation)
        return queued
    for (invitation, _), message in zip(rendered, messages, strict=True):
        invitation.message = message
    return [invitation for invitation, _ in rendered]


def _invitations_write(invitations: list[Invitation], fields: list[str]) -> None:
    """Write `fields` of `invitations`, each row its own values, in one UPDATE.

    What `bulk_update` does, with the SQL written here: it builds a `Case(When(...))` expression per row and field
    and resolves each, which cost the dispatcher more CPU than rendering and storing the messages together.
    """
    if not invitations:
        return
    table, quote = Invitation._meta.db_table, connection.ops.quote_name
    assignments, params = [], []
    for name in fields:
        field = Invitation._meta.get_field(name)
        assignments.append(
            f"{quote(field.column)} = CAST(CASE {quote('id')}{' WHEN %s THEN %s' * len(invitations)} END"
            f" AS {field.cast_db_type(connection)})"
        )
        for invitation in invitations:
            params += [invitation.pk, field.get_db_prep_save(getattr(invitation, field.attname), connection)]
    ids = [invitation.pk for invitation in invitations]
    where = f"{quote('id')} IN ({', '.join(['%s'] * len(ids))})"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quote(table)} SET {', '.join(assignments)} WHERE {where}", [*params, *ids])


def invitations_dispatch_due(*, batch_size: int = 200) -> int:
    """Claim due invitations and queue their messages; returns how many were handled.

    `skip_locked` lets several dispatchers run at once without waiting on or sending the same rows twice; the
    status changes commit in the same transaction as the claim and the messages, so a dispatcher killed before
    the commit leaves its batch due for the next run, and one that committed never sees it again. Consent,
    fatigue and the SMS window (which may have changed since an invitation was scheduled) are checked for the
    whole batch at once, each message rendered from its survey's email rendered once, and all stored in one
    INSERT: the statements a batch runs do not grow with its size. The messages go to workers in batches
    (`SEND_BATCH_SIZE`) once it commits.
    """
    now = timezone.now()
    with transaction.atomic(), messages_sent_in_batches():
        due = list(
            Invitation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Invitation.Status.SCHEDULED, scheduled_at__lte=now)
            .select_related("survey", "contact")
            .order_by("scheduled_at")[:batch_size]
        )
        expired = [invitation for invitation in due if invitation.expires_at <= now]
        live = [invitation for invitation in due if invitation.expires_at > now]
        blocks = invitations_send_blocks(live, at=now)
        renderer = InvitationRenderer()
        rendered, dropped, held = [], [], []
        for invitation in live:
            block = blocks.get(invitation.pk)
            if block and block.until:  # outside the SMS window: deferred until it opens
                invitation.scheduled_at = block.until
                held.append(invitation)
            elif block:  # opted out or throttled: dropped, keeping the reason
                invitation.status, invitation.cancel_reason = Invitation.Status.CANCELLED, block.reason
                dropped.append(invitation)
            else:
                try:
                    rendered.append((invitation, renderer.render(invitation, reminder=False)))
                except Exception as exc:  # noqa: BLE001 - one row's content must not stop the other rows
                    _invitation_failed(invitation, exc)
                    dropped.append(invitation)
        queued = _invitations_queue(rendered)
        dropped += [invitation for invitation, _ in rendered if invitation.status == Invitation.Status.CANCELLED]
        for invitation in queued:
            invitation.status = Invitation.Status.QUEUED
        if expired:
            Invitation.objects.filter(pk__in=[i.pk for i in expired]).update(status=Invitation.Status.EXPIRED)
        _invitations_write(held, ["scheduled_at"])
        _invitations_write(dropped, ["status", "cancel_reason"])
        _invitations_write(queued, ["message", "status"])
    return len(due)


def invitations_expire(*, now=None, batch_size: int = 5000) -> int:
    """Mark invitations whose link has expired `expired`; returns how many.

    Scheduled ones that never went out and sent ones alike: the scans of live invitations (reminders,
    dispatch, the SMS-reply lookup) then read only what is still open, on a partial index, however many
    invitations were ever sent. Fatigue still counts an expired invitation that was sent.
    """
    now = now or timezone.now()
    live = (Invitation.Status.SCHEDULED, Invitation.Status.QUEUED)
    due = list(
        Invitation.objects.filter(status__in=live, expires_at__lte=now).values_list("pk", flat=True)[:batch_size]
    )
    return Invitation.objects.filter(pk__in=due, status__in=live).update(status=Invitation.Status.EXPIRED)


def invitations_remind_due(*, batch_size: int = 200) -> int:
    """Send the one reminder of surveys that have `reminder_after_days`, to invitations still unanswered.

    Only invitations whose first message went out are reminded, never after they expire,
    and an SMS waits for the contact's send window. Returns how many reminders were queued.
    """
    now = timezone.now()
    reminded = 0
    renderer = InvitationRenderer()
    for survey in Survey.objects.filter(reminder_after_days__isnull=False, is_active=True):
        with transaction.atomic():
            due = list(
                Invitation.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    survey=survey,
                    status=Invitation.Status.QUEUED,
                    reminded_at__isnull=True,
                    response__isnull=True,
                    scheduled_at__lte=now - timedelta(days=survey.reminder_after_days),
                    expires_at__gt=now,
                    message__status__in=REMINDABLE_MESSAGE_STATUSES,
                )
                .select_related("survey", "contact")
                .order_by("scheduled_at")[:batch_size]
            )
            for invitation in due:
                if invitation.channel in PHONE_CHANNELS and sms_window_next_open(invitation.contact, now):
                    continue
                if not _isolated(
                    invitation,
                    lambda invitation=invitation: message_queue(**renderer.render(invitation, reminder=True)),
                    on_failure=_reminder_failed,
                ):
                    continue
                invitation.reminded_at = now
                invitation.save(update_fields=["reminded_at"])
                reminded += 1
    return reminded
