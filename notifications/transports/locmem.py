"""Keeps sent messages in a process-local outbox, for tests that assert on what crossed the seam."""

from dataclasses import dataclass

from notifications.models import Message
from notifications.transports import SendResult


@dataclass(frozen=True)
class OutboxEntry:
    channel: str
    recipient: str
    subject: str
    body_text: str
    body_html: str
    headers: dict
    from_email: str = ""
    reply_to: str = ""
    thread: str = ""
    template: dict | None = None


outbox: list[OutboxEntry] = []


class LocmemTransport:
    def send(self, message: Message) -> SendResult:
        outbox.append(
            OutboxEntry(
                channel=message.channel,
                recipient=message.recipient,
                subject=message.subject,
                body_text=message.body_text,
                body_html=message.body_html,
                headers=dict(message.headers),
                from_email=message.from_email,
                reply_to=message.reply_to,
                thread=message.thread,
                template=dict(message.template),
            )
        )
        return SendResult(provider_message_id=f"locmem-{message.public_id}")
