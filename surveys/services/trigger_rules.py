"""Trigger rules' writes (the API's create and update); the cached list is `surveys.selectors`'."""

from django.conf import settings
from django.utils.translation import gettext as _

from surveys.models import TriggerRule


def trigger_rule_channel_problem(channel: str) -> str:
    """Why a rule cannot ask on `channel` on this installation ("" when it can): WhatsApp needs its sender and
    the approved template that opens a conversation, or every invitation of the rule would be dropped."""
    if channel != TriggerRule.ChannelChoice.WHATSAPP:
        return ""
    missing = [name for name in ("TWILIO_WHATSAPP_FROM", "TWILIO_WHATSAPP_CONTENT_SID") if not getattr(settings, name)]
    if not missing:
        return ""
    if len(missing) == 2:
        return _(
            "WhatsApp is not set up on this installation: set %(first)s and %(second)s (see the WhatsApp setup page)."
        ) % {"first": missing[0], "second": missing[1]}
    return _("WhatsApp is not set up on this installation: set %(setting)s (see the WhatsApp setup page).") % {
        "setting": missing[0]
    }


def trigger_rule_create(**fields) -> TriggerRule:
    return TriggerRule.objects.create(**fields)


def trigger_rule_update(*, rule: TriggerRule, **fields) -> TriggerRule:
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.save()
    return rule
