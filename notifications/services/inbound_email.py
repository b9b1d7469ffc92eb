"""Two-way email: the Reply-To address of a conversation, and the customer's emails that come back to it.

An app above names its conversation with an opaque `thread` string ("follow_up:12"); this module
gives it an unguessable reply address, and, when SendGrid Inbound Parse posts an email sent to
that address, stores it once and announces it with `inbound_email_received` in the same transaction. It knows
nothing of cases: mail to an unknown or expired address is stored with that outcome, logged, and
answered by nothing.
"""

import base64
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from email.utils import getaddresses, parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.email_reply import reply_text
from notifications.models import InboundEmail, ReplyAddress
from notifications.signals import inbound_email_received

logger = logging.getLogger(__name__)

REPLY_LOCAL_PART = "reply"
_REPLY_ADDRESS = re.compile(rf"^{REPLY_LOCAL_PART}\+([a-z2-7]{{26}})@", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"^message-id:\s*(<[^>\r\n]{1,290}>)", re.IGNORECASE | re.MULTILINE)


def _token_new() -> str:
    # 128 random bits, lowercase base32: survives mail systems that change an address's case.
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


def reply_address_for_thread(*, thread: str) -> str:
    """The conversation's Reply-To address (made on first use, the same afterwards), marked as used now."""
    now = timezone.now()
    address = ReplyAddress.objects.filter(thread=thread).first()
    if address is None:
        try:
            with transaction.atomic():
                address = ReplyAddress.objects.create(thread=thread, token=_token_new(), last_used_at=now)
        except IntegrityError:
            # A concurrent first reply on the same conversation made it.
            address = ReplyAddress.objects.get(thread=thread)
    else:
        ReplyAddress.objects.filter(pk=address.pk).update(last_used_at=now)
    return f"{REPLY_LOCAL_PART}+{address.token}@{settings.INBOUND_EMAIL_DOMAIN}"


@dataclass(frozen=True)
class ParsedInbound:
    """What we read of one Inbound Parse post (its multipart form fields, already decoded)."""

    sender: str
    recipients: list[str]
    subject: str
    text: str
    message_id: str


def inbound_parse_fields(fields: dict[str, str]) -> ParsedInbound:
    """Read SendGrid Inbound Parse's form fields: `envelope` (JSON: `to` list, `from`) says who sent it to whom
    on the wire; the `to`, `cc` and `from` headers are the fallback; `headers` holds the Message-ID."""
    try:
        envelope = json.loads(fields.get("envelope") or "{}")
    except ValueError:
        envelope = {}
    if not isinstance(envelope, dict):
        envelope = {}
    envelope_to = envelope.get("to") if isinstance(envelope.get("to"), list) else []
    recipients = [str(address) for address in envelope_to if address]
    recipients += [address for _, address in getaddresses([fields.get("to", ""), fields.get("cc", "")]) if address]
    sender = str(envelope.get("from") or "") or parseaddr(fields.get("from", ""))[1]
    match = _MESSAGE_ID.search(fields.get("headers", ""))
    return ParsedInbound(
        sender=sender[:320],
        recipients=recipients,
        subject=" ".join(fields.get("subject", "").split())[:300],
        text=fields.get("text", ""),
        message_id=match.group(1) if match else "",
    )


def _reply_token(recipients: list[str]) -> tuple[str, str]:
    """The first recipient that is one of our reply addresses, and its token; else the first recipient."""
    for recipient in recipients:
        if match := _REPLY_ADDRESS.match(recipient.strip()):
            return recipient.strip(), match.group(1).lower()
    return (recipients[0] if recipients else "")[:320], ""


def inbound_email_receive(*, parsed: ParsedInbound) -> InboundEmail | None:
    """Store an inbound email once (per Message-ID) and announce it to its conversation in the same transaction,
    as an inbound SMS is: the receivers' writes (the reply on its case) commit with it, or, if one fails, nothing
    does and the provider's retry of the failed post routes it again.

    None for a provider retry of an email already stored. An unknown or expired reply address is
    stored with that outcome and logged (without the address), and nobody is told or answered.
    """
    recipient, token = _reply_token(parsed.recipients)
    address = ReplyAddress.objects.filter(token=token).first() if token else None
    if address is None:
        outcome, thread = InboundEmail.Outcome.UNKNOWN, ""
    elif address.last_used_at < timezone.now() - timedelta(days=settings.REPLY_ADDRESS_EXPIRY_DAYS):
        outcome, thread = InboundEmail.Outcome.EXPIRED, address.thread
    else:
        outcome, thread = InboundEmail.Outcome.ROUTED, address.thread
    try:
        with transaction.atomic():
            inbound = InboundEmail.objects.create(
                message_id=parsed.message_id,
                sender=parsed.sender,
                recipient=recipient,
                subject=parsed.subject,
                text=parsed.text,
                reply=reply_text(parsed.text),
                thread=thread,
                outcome=outcome,
            )
            if outcome == InboundEmail.Outcome.ROUTED:
                inbound_email_received.send(
                    sender=InboundEmail,
                    inbound_id=inbound.pk,
                    thread=thread,
                    email=inbound.sender,
                    body=inbound.reply,
                    received_at=inbound.received_at,
                )
    except IntegrityError:
        if parsed.message_id and InboundEmail.objects.filter(message_id=parsed.message_id).exists():
            return None  # a retry of an email already stored and routed
        raise
    if outcome != InboundEmail.Outcome.ROUTED:
        logger.warning("inbound email %s to an %s reply address: stored, not routed", inbound.pk, outcome)
    return inbound
