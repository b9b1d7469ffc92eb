"""Provider transports: one seam per channel, chosen by `NOTIFICATIONS_TRANSPORTS`.

A transport turns a `Message` into one provider call and returns the provider's id, or
raises `DeliveryError`; it never touches the database (the send service owns status).

Every transport sorts its failures by one question: may the provider have read the whole
request? A failure to connect, or while the request was still being written, proves it did
not (retrying cannot double); once the request was written, a dropped connection or a read
timeout leaves the outcome `unknown`: the provider may have accepted it, so it is never resent.
"""

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from notifications.models import Message


class DeliveryError(Exception):
    """A provider refused or failed a send.

    `permanent` ones are never retried; `retry_after` (seconds) is the provider's own wait
    (a 429's reset header); `opted_out` says the recipient refused the channel; `unreachable`
    says the address can never receive this channel (an invalid or landline number);
    `unknown` says the request may have reached the provider (written in full, then the
    connection dropped or timed out), so resending could double it.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        opted_out: bool = False,
        unreachable: bool = False,
        unknown: bool = False,
    ) -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.retry_after = retry_after
        self.opted_out = opted_out
        self.unreachable = unreachable
        self.unknown = unknown


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str


class Transport(Protocol):
    def send(self, message: Message) -> SendResult: ...


class StatusLookup(Protocol):
    """A transport whose provider answers "what became of this message?" (Twilio's Message fetch)."""

    def status(self, provider_message_id: str) -> tuple[str, str]:
        """The provider's status of the message and its error code ("" when none); raises DeliveryError."""
        ...


_transports: dict[str, Transport] = {}


def transport_for(channel: str) -> Transport:
    """One transport per channel and process: SDK clients keep their HTTP connection pool."""
    path = settings.NOTIFICATIONS_TRANSPORTS[channel]
    key = f"{channel}:{path}"
    if key not in _transports:
        _transports[key] = import_string(path)()
    return _transports[key]
