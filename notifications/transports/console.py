"""Prints each message to stdout: the stand-in used until SendGrid or Twilio is configured."""

import sys

from notifications.models import Message
from notifications.transports import SendResult


class ConsoleTransport:
    def send(self, message: Message) -> SendResult:
        lines = [
            f"----- {message.channel} to {message.recipient} -----",
            *([f"From: {message.from_email}"] if message.from_email else []),
            *([f"Reply-To: {message.reply_to}"] if message.reply_to else []),
            *([f"Subject: {message.subject}"] if message.subject else []),
            message.body_text,
            "-" * 40,
        ]
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
        return SendResult(provider_message_id=f"console-{message.public_id}")
