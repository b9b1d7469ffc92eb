"""Stand-in providers at the transport seam that fail the way real ones do, one scripted outcome per call."""

from notifications.models import Message
from notifications.transports import DeliveryError, SendResult

script: list[DeliveryError | None] = []
calls: list[str] = []


class ScriptedTransport:
    def send(self, message: Message) -> SendResult:
        calls.append(message.recipient)
        outcome = script.pop(0) if script else None
        if outcome is not None:
            raise outcome
        return SendResult(provider_message_id=f"scripted-{len(calls)}")
