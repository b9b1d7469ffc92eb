"""Provider transports: one seam per channel, chosen by `NOTIFICATIONS_TRANSPORTS`.

A transport turns a `Message` into one provider call and returns the provider's id, or
raises `DeliveryError`; it never touches the database (the send service owns status).
"""

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from notifications.models import Message


class DeliveryError(Exception):
    """A provider refused or failed a send.

    `permanent` ones are never retried; `retry_after` (seconds) is the provider's own wait
    (a 429's reset header); `opted_out` says the recipient refused the channel; `unknown`
    says the request may have reached the provider (a timeout after sending), so resending
    could double it.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        opted_out: bool = False,
        unknown: bool = False,
    ) -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.retry_after = retry_after
        self.opted_out = opted_out
        self.unknown = unknown


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str


class Transport(Protocol):
    def send(self, message: Message) -> SendResult: ...


_transports: dict[str, Transport] = {}


def transport_for(channel: str) -> Transport:
    """One transport per channel and process: SDK clients keep their HTTP connection pool."""
    path = settings.NOTIFICATIONS_TRANSPORTS[channel]
    key = f"{channel}:{path}"
    if key not in _transports:
        _transports[key] = import_string(path)()
    return _transports[key]
