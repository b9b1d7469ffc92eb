"""How the inbox and the case page say things: due times relative to now, score bands, first lines.

Pure formatting; `relative_due` is a plain function so that its wording is tested without templates.
"""

import zoneinfo
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from surveys.scoring import is_detractor, is_promoter

register = template.Library()


# The words of a score's band, for screen readers (the CSS class keeps the English key).
BAND_LABELS = {
    "detractor": pgettext_lazy("score band", "detractor"),
    "passive": pgettext_lazy("score band", "passive"),
    "promoter": pgettext_lazy("score band", "promoter"),
}


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return _("%(count)s min") % {"count": max(minutes, 1)}
    hours = minutes // 60
    if hours < 48:
        return _("%(count)s h") % {"count": hours}
    return _("%(count)s d") % {"count": hours // 24}


def relative_due(due_at: datetime, now: datetime) -> tuple[str, bool]:
    """("in 3 h", False) or ("overdue 2 h", True): whole minutes under an hour, hours under two days, then days."""
    seconds = (due_at - now).total_seconds()
    if seconds >= 0:
        return _("in %(span)s") % {"span": _span(seconds)}, False
    return _("overdue %(span)s") % {"span": _span(-seconds)}, True


@register.simple_tag
def due_label(due_at: datetime, now: datetime | None = None) -> str:
    return relative_due(due_at, now or timezone.now())[0]


@register.simple_tag
def is_overdue(due_at: datetime, now: datetime | None = None) -> bool:
    return relative_due(due_at, now or timezone.now())[1]


@register.filter
def in_zone(value: datetime | None, zone: str):
    """The moment in the named IANA zone (unknown zones read as UTC), for `|date`."""
    if value is None:
        return None
    try:
        tz = zoneinfo.ZoneInfo(zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    return value.astimezone(tz)


@register.filter
def score_band(response) -> str:
    """detractor, passive or promoter, as the survey's kind defines them."""
    kind = response.survey.kind
    if is_detractor(kind, response.score):
        return "detractor"
    if is_promoter(kind, response.score):
        return "promoter"
    return "passive"


@register.filter
def score_band_label(response) -> str:
    return BAND_LABELS[score_band(response)]


@register.filter
def first_line(text: str) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""
