"""What SendGrid Inbound Parse posts for one email: a multipart form with its real field names.

Used to post customers' email replies to `/webhooks/sendgrid/inbound/` from tests, signed the
way the parse webhook's security policy signs (ECDSA P-256 over the timestamp and the raw body).
"""

import base64
import json
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart


def inbound_parse_form(
    *, to: str, sender: str, text: str, subject: str = "Re: About your feedback", message_id: str = ""
) -> dict[str, str]:
    headers = f"Received: by mx.sendgrid.net\nFrom: {sender}\nTo: {to}\nSubject: {subject}\n"
    if message_id:
        headers += f"Message-ID: {message_id}\n"
    return {
        "headers": headers,
        "dkim": "{@example.com : pass}",
        "to": to,
        "from": f"Customer <{sender}>",
        "text": text,
        "html": "<div>" + text.replace("\n", "<br>") + "</div>",
        "sender_ip": "192.0.2.10",
        "envelope": json.dumps({"to": [to], "from": sender}),
        "attachments": "0",
        "subject": subject,
        "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8", "text": "utf-8"}),
        "SPF": "pass",
    }


def inbound_parse_body(form: dict[str, str]) -> tuple[str, bytes]:
    """The content type and raw body of the post."""
    return MULTIPART_CONTENT, encode_multipart(BOUNDARY, form)


class InboundSigner:
    """A parse webhook signing key pair; `public_key` is what SENDGRID_INBOUND_PUBLIC_KEY holds."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        public = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(public).decode()

    def headers(self, body: bytes, timestamp: str | None = None) -> dict[str, str]:
        timestamp = timestamp or str(int(time.time()))
        signature = self.key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }
