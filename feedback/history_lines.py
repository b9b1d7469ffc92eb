"""The lines of a case's history that Closeloop writes itself, one wording each.

An entry keeps the line's slug and values beside its body: the body is the line in English, written once
(the API, webhooks, exports and emails read it), and the case page draws the line again in its reader's
language and time zone. Agents' notes and customers' messages have no slug and are shown as written.
"""

import zoneinfo
from datetime import date, datetime

from django.conf import settings
from django.utils import dateformat, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from feedback.models import FollowUp, Priority
from surveys.models import Sentiment
from surveys.scoring import NO_LONGER_UNHAPPY

LINES = {
    "assigned": _("Assigned to %(email)s"),
    "unassigned": _("Put back in the team queue"),
    "routed": _("Routed by rule %(rule)s"),
    "rerouted": _("Routed by rule %(rule)s to team %(team)s"),
    "moved": _("Moved from team %(old_team)s to team %(team)s"),
    "status": _("%(old_status)s → %(new_status)s"),
    "priority": _("Priority %(old_priority)s → %(new_priority)s"),
    "resolved": _("%(cause)s · %(outcome)s"),
    "resolved_with_note": _("%(cause)s · %(outcome)s: %(note)s"),
    "closed": _("Closed: %(no_longer_unhappy)s."),
    "not_fixed_reopened": _("The customer says it is not fixed."),
    "wrote_by_email_reopened": _("The customer wrote by email after the resolution."),
    "wrote_by_sms_reopened": _("The customer wrote by SMS after the resolution."),
    "wrote_on_whatsapp_reopened": _("The customer wrote on WhatsApp after the resolution."),
    "fix_answer_fixed": _("The customer answered %(score)s: fixed."),
    "fix_answer_not_fixed": _("The customer answered %(score)s: not fixed."),
    "fix_answer_fixed_earlier": _("The customer answered %(score)s: fixed. (about the resolution of %(resolved_at)s)"),
    "fix_answer_not_fixed_earlier": _(
        "The customer answered %(score)s: not fixed. (about the resolution of %(resolved_at)s)"
    ),
    "fix_check_sent": _("%(survey)s by %(channel)s."),
    "fix_check_opted_out": _("Not sent by %(channel)s: they opted out."),
    "fix_check_no_address": _("Not sent by %(channel)s: no address."),
    "comment_read": _("The comment was read: %(themes)s; %(sentiment)s sentiment."),
    "score_changed": _("The customer changed their score to %(score)s."),
    "reason_given": _("The customer gave a reason: %(comment)s"),
    "reason_removed": _("The customer removed their reason."),
    "snoozed": _("Snoozed until %(day)s"),
    "woken": _("Woken up"),
    "sla_reminder": _("75%% of the SLA has passed."),
    "sla_breached": _("The SLA is breached."),
}


def _label(choices):
    return lambda code: str(choices(code).label)


# Values stored as codes or ISO dates, drawn in the reader's words; any other value is shown as it was stored.
DRAWN = {
    "old_status": _label(FollowUp.Status),
    "new_status": _label(FollowUp.Status),
    "old_priority": _label(Priority),
    "new_priority": _label(Priority),
    "outcome": _label(FollowUp.Outcome),
    "no_longer_unhappy": lambda kind: str(NO_LONGER_UNHAPPY[kind]).lower(),
    "sentiment": lambda code: str(Sentiment(code).label).lower() if code else str(pgettext_lazy("sentiment", "no")),
    "themes": lambda themes: ", ".join(themes) or str(_("no theme")),
    "day": lambda day: dateformat.format(date.fromisoformat(day), "D j M Y"),
}


def _moment(value: str, time_zone: str) -> str:
    try:
        zone = zoneinfo.ZoneInfo(time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return dateformat.format(datetime.fromisoformat(value).astimezone(zone), "j M Y, H:i")


def history_line(wording: str, values: dict, *, time_zone: str) -> str:
    """The line in the active language, its moments in `time_zone`."""
    drawn = {
        name: _moment(value, time_zone) if name == "resolved_at" else DRAWN.get(name, str)(value)
        for name, value in values.items()
    }
    return str(LINES[wording]) % drawn


def history_line_fields(wording: str, **values) -> dict:
    """An entry's `body` (the line in English, its moments in the site's zone), `wording` and `wording_values`."""
    with translation.override("en"):
        body = history_line(wording, values, time_zone=settings.TIME_ZONE)
    return {"body": body, "wording": wording, "wording_values": values}


def entry_text(entry, *, time_zone: str) -> str:
    """What the reader sees of an entry: a line Closeloop wrote, in their language; anything else, and a line
    whose words were purged (retention, erasure) or that predates the slugs, as stored."""
    if not entry.body or entry.wording not in LINES:
        return entry.body
    return history_line(entry.wording, entry.wording_values, time_zone=time_zone)
