"""Publishable keys of the web widget: create one, change its origins and display defaults, revoke it.

A publishable key is public (it sits in the company's pages); it names a survey and the sites allowed to
show it, nothing more. Writes nothing but keys.
"""

import secrets
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.models import PublishableKey, Survey

PUBLISHABLE_KEY_PREFIX = "pk_"
MAX_ORIGINS = 20
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_normalize(origin: str) -> str:
    """`scheme://host[:port]` as a browser sends it in `Origin` (lower case, no default port), or ValueError."""
    if not isinstance(origin, str) or not origin.strip():
        raise ValueError(_("Give an origin such as https://app.example.com."))
    parts = urlsplit(origin.strip())
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(
            _("%(origin)s is not an origin: give scheme and host, e.g. https://app.example.com.")
            % {"origin": repr(origin)}
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(
            _("%(origin)s is not an origin: no path, query or user, e.g. https://app.example.com.")
            % {"origin": repr(origin)}
        )
    try:
        port = parts.port
    except ValueError:
        raise ValueError(_("%(origin)s has an invalid port.") % {"origin": repr(origin)}) from None
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address keeps its brackets in an origin
    return f"{scheme}://{host}" if port in (None, DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def origins_clean(origins: object) -> list[str]:
    if not isinstance(origins, list) or not origins:
        raise ValidationError({"allowed_origins": [_("Give at least one origin, e.g. https://app.example.com.")]})
    if len(origins) > MAX_ORIGINS:
        raise ValidationError({"allowed_origins": [_("At most %(count)s origins per key.") % {"count": MAX_ORIGINS}]})
    clean = []
    for origin in origins:
        try:
            clean.append(origin_normalize(origin))
        except ValueError as exc:
            raise ValidationError({"allowed_origins": [str(exc)]}) from None
    return list(dict.fromkeys(clean))


def _options_check(*, name: str, sample_factor: float, recurring_period_days: int) -> None:
    errors = {}
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        errors["name"] = [_("Give the key a name of at most 100 characters.")]
    if not isinstance(sample_factor, (int, float)) or not 0 <= sample_factor <= 1:
        errors["sample_factor"] = [_("Give a share from 0 to 1.")]
    if not isinstance(recurring_period_days, int) or not 0 <= recurring_period_days <= 3650:
        errors["recurring_period_days"] = [_("Give a number of days from 0 to 3650.")]
    if errors:
        raise ValidationError(errors)


def publishable_key_create(
    *,
    name: str,
    survey: Survey,
    allowed_origins: list[str],
    sample_factor: float = 1.0,
    recurring_period_days: int = 90,
) -> PublishableKey:
    origins = origins_clean(allowed_origins)
    _options_check(name=name, sample_factor=sample_factor, recurring_period_days=recurring_period_days)
    return PublishableKey.objects.create(
        name=name.strip(),
        key=PUBLISHABLE_KEY_PREFIX + secrets.token_hex(16),
        survey=survey,
        allowed_origins=origins,
        sample_factor=float(sample_factor),
        recurring_period_days=recurring_period_days,
    )


def publishable_key_update(*, publishable_key: PublishableKey, **changes) -> PublishableKey:
    """Change the name, survey, origins or display defaults; the key itself never changes."""
    unknown = set(changes) - {"name", "survey", "allowed_origins", "sample_factor", "recurring_period_days"}
    if unknown:
        raise ValidationError({field: ["This field cannot be changed."] for field in sorted(unknown)})
    if "allowed_origins" in changes:
        changes["allowed_origins"] = origins_clean(changes["allowed_origins"])
    merged = {
        "name": changes.get("name", publishable_key.name),
        "sample_factor": changes.get("sample_factor", publishable_key.sample_factor),
        "recurring_period_days": changes.get("recurring_period_days", publishable_key.recurring_period_days),
    }
    _options_check(**merged)
    for field, value in changes.items():
        setattr(publishable_key, field, value.strip() if field == "name" else value)
    if changes:
        publishable_key.save(update_fields=list(changes))
    return publishable_key


def publishable_key_revoke(*, publishable_key: PublishableKey) -> PublishableKey:
    """A revoked key shows nothing from its next request on; pages that still carry it stay quiet."""
    if publishable_key.revoked_at is None:
        publishable_key.revoked_at = timezone.now()
        publishable_key.save(update_fields=["revoked_at"])
    return publishable_key
