"""Branding: which sender name, address, colour, logo and footer a survey's messages and page carry.

`contrast_ratio` is a pure WCAG 2.x computation. `branding_for` merges a survey's own branding over the
workspace's; the rows are few and read on every invitation sent, so they are kept in Django's cache for a
minute and forgotten when one is saved (`branding_forget`).
"""

import re
from dataclasses import dataclass, fields
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from surveys.models import Branding

CACHE_KEY = "surveys:branding:v1"
CACHE_SECONDS = 60
DEFAULT_COLOR = "#1f4fd1"
HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
WHITE = "#ffffff"
MIN_CONTRAST = 4.5  # WCAG 2.x AA for normal text: white button labels on the brand colour


def _luminance(color: str) -> float:
    channels = []
    for start in (1, 3, 5):
        value = int(color[start : start + 2], 16) / 255
        channels.append(value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.x contrast ratio of two #RRGGBB colours, from 1 to 21."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return round((lighter + 0.05) / (darker + 0.05), 2)


def color_errors(color: str) -> list[str]:
    if not color:
        return []
    if not HEX_COLOR.match(color):
        return [_("Give a colour as #RRGGBB, e.g. #1f4fd1.")]
    ratio = contrast_ratio(color, WHITE)
    if ratio < MIN_CONTRAST:
        return [
            _("White text on %(color)s contrasts %(ratio)s:1; pick a darker colour (at least %(minimum)s:1).")
            % {"color": color, "ratio": ratio, "minimum": MIN_CONTRAST}
        ]
    return []


@dataclass(frozen=True)
class Brand:
    sender_name: str = ""
    sender_email: str = ""
    reply_to: str = ""
    logo_url: str = ""
    brand_color: str = ""
    footer: str = ""
    sms_signature: str = ""

    @property
    def color(self) -> str:
        return self.brand_color or DEFAULT_COLOR

    @property
    def from_email(self) -> str:
        """The From header, or "" for DEFAULT_FROM_EMAIL as it is."""
        if not (self.sender_name or self.sender_email):
            return ""
        default_name, default_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        return formataddr((self.sender_name or default_name, self.sender_email or default_address))


FIELDS = tuple(field.name for field in fields(Brand))


def _rows() -> dict:
    rows = cache.get(CACHE_KEY)
    if rows is None:
        rows = {row["survey_id"]: row for row in Branding.objects.values("survey_id", *FIELDS)}
        cache.set(CACHE_KEY, rows, CACHE_SECONDS)
    return rows


def branding_for(survey_id: int | None, cached: dict | None = None) -> Brand:
    """The survey's brand; `cached` is the cache's value of `CACHE_KEY` when the caller read it already (a
    respondent page reads it with its rate limit), None to read it here."""
    rows = _rows() if cached is None else cached
    workspace, own = rows.get(None, {}), rows.get(survey_id, {}) if survey_id else {}
    return Brand(**{name: own.get(name) or workspace.get(name) or "" for name in FIELDS})


def branding_forget() -> None:
    cache.delete(CACHE_KEY)
