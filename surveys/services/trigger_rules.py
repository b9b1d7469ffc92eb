"""Trigger rules' writes (the API's create and update); the cached list is `surveys.selectors`'."""

from django.conf import settings

from surveys.models import TriggerRule


def trigger_rule_channel_problem(channel: str) -> str:
    """Why a rule cannot ask on `channel` on this installation ("" when it can): WhatsApp needs its sender and
    the approved template that opens a conversation, or every invitation of the rule would be dropped."""
    if channel != TriggerRule.ChannelChoice.WHATSAPP:
        return ""
    missing = [name for name in ("TWILIO_WHATSAPP_FROM", "TWILIO_WHATSAPP_CONTENT_SID") if not getattr(settings, name)]
    if not missing:
        return ""
    return f"WhatsApp is not set up on this installation: set {' and '.join(missing)} (see the WhatsApp setup page)."


def trigger_rule_create(**fields) -> TriggerRule:
    return TriggerRule.objects.create(**fields)


def trigger_rule_update(*, rule: TriggerRule, **fields) -> TriggerRule:
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.save()
    return rule
