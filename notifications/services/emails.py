"""Email content: render a template trio (subject, text, html); the unsubscribe link and headers of survey emails."""

import hashlib
import secrets

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation


def email_render(*, template: str, context: dict, language: str | None = None) -> tuple[str, str, str]:
    """Render `<template>_subject.txt`, `_body.txt` and `_body.html` into (subject, text, html).

    `language` is the recipient's (a staff email's `{% translate %}` words, dates); without it, whichever
    language is active. Survey emails carry their words in the context and pass none."""
    with translation.override(language) if language else translation.override(translation.get_language()):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}_body.txt", context)
        html = render_to_string(f"{template}_body.html", context)
    return subject, text, html


def unsubscribe_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unsubscribe_token_new() -> tuple[str, str]:
    """A fresh opaque unsubscribe token and the hash to store; the token lives only in the message."""
    token = secrets.token_urlsafe(24)
    return token, unsubscribe_token_hash(token)


def unsubscribe_url(token: str, locale: str) -> str:
    """The unsubscribe page in the email's language (`?lang=`): it names no address, so it cannot look one up."""
    return f"{settings.SITE_URL}/u/{token}/?lang={locale}"


def unsubscribe_headers(token: str, locale: str) -> dict[str, str]:
    """RFC 2369 / RFC 8058 headers: one-click POST to /u/<token>/, and a mailto fallback."""
    url = unsubscribe_url(token, locale)
    return {
        "List-Unsubscribe": f"<{url}>, <mailto:{settings.UNSUBSCRIBE_MAILTO}?subject=unsubscribe-{token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
