"""Signals `notifications` sends after commit, so that apps above it can react without being imported."""

from django.dispatch import Signal

# A customer's SMS or WhatsApp message that was not a STOP/START/HELP keyword: kwargs inbound_id, phone, body,
# thread (the conversation of the latest message we sent to the number on that channel, "" for none: see
# Message.thread), channel ("sms" or "whatsapp"), button_payload (the id of the WhatsApp quick-reply button
# tapped, "" for typed text).
inbound_sms_received = Signal()
# A recipient was newly suppressed (unsubscribe, STOP, bounce…): kwargs suppression_id.
suppression_created = Signal()
# A customer's email to a conversation's reply address: kwargs inbound_id, thread, email, body (the reply,
# quoted history and signature trimmed), received_at. Mail to unknown or expired addresses is not sent.
inbound_email_received = Signal()
