"""Provider webhooks and the unsubscribe page: check the signature, parse, call one service."""

import base64
import binascii
import hmac
import json
import logging
import time
from io import BytesIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from sendgrid.helpers.eventwebhook import EventWebhook
from twilio.request_validator import RequestValidator

from notifications.models import Channel, Message
from notifications.services.emails import unsubscribe_token_hash
from notifications.services.inbound import inbound_sms_receive
from notifications.services.inbound_email import inbound_email_receive, inbound_parse_fields
from notifications.services.provider_events import sendgrid_events_record, twilio_status_record
from notifications.services.suppressions import unsubscribe_by_token
from notifications.wording import wording

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
WHATSAPP_PREFIX = "whatsapp:"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _sendgrid_timestamp_fresh(timestamp: str) -> bool:
    """The signed timestamp is within the tolerance of now: a replayed capture carries an old one."""
    try:
        signed_at = int(timestamp)
    except ValueError:
        return False
    return abs(time.time() - signed_at) <= settings.SENDGRID_WEBHOOK_TOLERANCE_SECONDS


def _sendgrid_signature_ok(request: HttpRequest) -> bool:
    signature = request.headers.get(SIGNATURE_HEADER, "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not (settings.SENDGRID_WEBHOOK_PUBLIC_KEY and signature and timestamp):
        return False
    # The signature covers the timestamp, so checking its age after verifying it is enough.
    try:
        verifier = EventWebhook(settings.SENDGRID_WEBHOOK_PUBLIC_KEY)
        verified = verifier.verify_signature(request.body.decode("utf-8"), signature, timestamp)
    except (binascii.Error, ValueError, UnicodeDecodeError, InvalidSignature, TypeError):
        return False
    return verified and _sendgrid_timestamp_fresh(timestamp)


@csrf_exempt
@require_POST
def sendgrid_events(request: HttpRequest) -> HttpResponse:
    if not _sendgrid_signature_ok(request):
        return HttpResponseForbidden("bad signature")
    try:
        events = json.loads(request.body)
    except ValueError:
        return HttpResponse("body is not JSON", status=400)
    if not isinstance(events, list):
        return HttpResponse("expected a JSON array of events", status=400)
    sendgrid_events_record(events=events)
    return HttpResponse(status=204)


def _twilio_signature_ok(request: HttpRequest) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False
    # Twilio signed the public URL; behind a TLS proxy only SITE_URL knows it, so never trust Host.
    url = settings.SITE_URL + request.get_full_path()
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, request.POST, signature)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not _twilio_signature_ok(request):
        return HttpResponseForbidden("bad signature")
    sid, status = request.POST.get("MessageSid", ""), request.POST.get("MessageStatus", "")
    if not sid or not status:
        return HttpResponse("MessageSid and MessageStatus are required", status=400)
    twilio_status_record(
        message_public_id=request.GET.get("m"), sid=sid, status=status, error_code=request.POST.get("ErrorCode", "")
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_sms(request: HttpRequest) -> HttpResponse:
    """A customer's SMS, or WhatsApp message (`From: whatsapp:+E164`; a tapped quick-reply button adds its id as
    `ButtonPayload` and its text as `ButtonText`, which is also the `Body`)."""
    if not _twilio_signature_ok(request):
        return HttpResponseForbidden("bad signature")
    sid, sender = request.POST.get("MessageSid", ""), request.POST.get("From", "")
    channel = Channel.WHATSAPP if sender.startswith(WHATSAPP_PREFIX) else Channel.SMS
    phone = sender.removeprefix(WHATSAPP_PREFIX)
    if not sid or not phone:
        return HttpResponse("MessageSid and From are required", status=400)
    inbound_sms_receive(
        sid=sid,
        phone=phone,
        body=request.POST.get("Body", ""),
        channel=channel,
        button_payload=request.POST.get("ButtonPayload", "") if channel == Channel.WHATSAPP else "",
    )
    # Replies go out as Messages through the send machine, so the TwiML answer stays empty.
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt  # RFC 8058: mail clients POST one-click unsubscribes with no cookie and no token.
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    # The email's language, which its link carries; the browser's when the link has none (older emails).
    words = wording(request.GET.get("lang") or request.LANGUAGE_CODE)
    if request.method == "POST":
        found = unsubscribe_by_token(token=token) is not None
    else:
        # GET only asks: link scanners and previews follow links and must unsubscribe nobody.
        found = Message.objects.filter(unsubscribe_hash=unsubscribe_token_hash(token)).exists()
    context = {"words": words, "state": "done" if request.method == "POST" else "confirm"}
    if not found:
        context["state"] = "not_found"
    return render(request, "notifications/unsubscribe.html", context, status=200 if found else 404)


def _inbound_signature_ok(request: HttpRequest, raw: bytes) -> bool:
    """Inbound Parse's signed webhook: ECDSA (P-256, SHA-256) over the timestamp header and the raw multipart
    body, in the same headers as the event webhook. The body may hold binary attachments, so it is verified
    as bytes (the SDK's helper only takes text); the SDK still reads the key."""
    signature = request.headers.get(SIGNATURE_HEADER, "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not (signature and timestamp):
        return False
    try:
        key = EventWebhook().convert_public_key_to_ecdsa(settings.SENDGRID_INBOUND_PUBLIC_KEY)
        key.verify(base64.b64decode(signature), timestamp.encode() + raw, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature, TypeError):
        return False
    return _sendgrid_timestamp_fresh(timestamp)


def _inbound_basic_auth_ok(request: HttpRequest) -> bool:
    """HTTP Basic credentials, which SendGrid sends when they are in the parse URL (https://user:pass@host/...)."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(given, settings.SENDGRID_INBOUND_AUTH.encode())


@csrf_exempt
@require_POST
def sendgrid_inbound(request: HttpRequest) -> HttpResponse:
    """SendGrid Inbound Parse (multipart form): every configured check must pass; with none configured, refuse."""
    if not (settings.SENDGRID_INBOUND_PUBLIC_KEY or settings.SENDGRID_INBOUND_AUTH):
        logger.warning("inbound email refused: set SENDGRID_INBOUND_PUBLIC_KEY or SENDGRID_INBOUND_AUTH")
        return HttpResponseForbidden("inbound email is not configured")
    if settings.SENDGRID_INBOUND_AUTH and not _inbound_basic_auth_ok(request):
        return HttpResponse("bad credentials", status=401, headers={"WWW-Authenticate": 'Basic realm="inbound"'})
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.INBOUND_EMAIL_MAX_BYTES:
        return HttpResponse("email too large", status=413)
    # Read the raw bytes ourselves (the signature covers them) and parse the form from them.
    raw = request.read(settings.INBOUND_EMAIL_MAX_BYTES + 1)
    if len(raw) > settings.INBOUND_EMAIL_MAX_BYTES:
        return HttpResponse("email too large", status=413)
    if settings.SENDGRID_INBOUND_PUBLIC_KEY and not _inbound_signature_ok(request, raw):
        return HttpResponseForbidden("bad signature")
    if not request.content_type.startswith("multipart/form-data"):
        return HttpResponse("expected multipart/form-data", status=400)
    try:
        fields, _files = MultiPartParser(request.META, BytesIO(raw), request.upload_handlers, "utf-8").parse()
    except (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent) as exc:
        return HttpResponse(f"unreadable form: {type(exc).__name__}", status=400)
    parsed = inbound_parse_fields({key: fields.get(key, "") for key in ("envelope", "to", "cc", "from", "subject",
                                                                         "text", "headers")})  # fmt: skip
    if not parsed.sender:
        return HttpResponse("from or envelope is required", status=400)
    inbound_email_receive(parsed=parsed)
    # Unknown and expired addresses also get a 2xx: SendGrid would otherwise retry them for three days.
    return HttpResponse(status=204)
