"""Signals `notifications` sends after commit, so that apps above it can react without being imported."""

from django.dispatch import Signal

# A customer's SMS that was not a STOP/START/HELP keyword: kwargs inbound_id, phone, body.
inbound_sms_received = Signal()
# A recipient was newly suppressed (unsubscribe, STOP, bounce…): kwargs suppression_id.
suppression_created = Signal()
