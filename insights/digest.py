"""Writes of the weekly digest: email each opted-in manager last week's headline numbers, once per week.

Reads the figures through `insights.selectors` like the dashboard does; sends only through
`notifications.services.queue.message_queue`, claiming each manager's week first so a re-run sends nothing twice.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from feedback.models import User
from insights import selectors, why
from notifications.models import Channel
from notifications.services.emails import email_render
from notifications.services.queue import message_queue


def digest_context(*, week_start: date) -> dict:
    """The figures of the week starting `week_start` (a Monday), with the week before for comparison."""
    filters = selectors.Filters(start=week_start, end=week_start + timedelta(days=6))
    current = selectors.scores(filters)
    funnel = {row.channel: row for row in selectors.funnel(filters)}
    total = funnel.get("all") or next(iter(funnel.values()), None)
    return {
        "filters": filters,
        "scores": current,
        "changes": selectors.compare(current, selectors.scores(filters.previous())),
        "funnel": total,
        "loop": selectors.loop(filters, current.detractors),
        "movers": why.top_movers(filters),
        "dashboard_url": f"{settings.SITE_URL}/dashboard/?period=custom&start={filters.start}&end={filters.end}",
    }


def digest_send_weekly(*, today: date | None = None) -> int:
    """Queue last week's digest to every opted-in active manager not yet sent it; returns how many were queued."""
    today = today or timezone.localdate()
    week_start = today - timedelta(days=today.weekday() + 7)
    recipients = User.objects.filter(role=User.Role.MANAGER, is_active=True, wants_weekly_digest=True).filter(
        Q(digest_sent_for__isnull=True) | Q(digest_sent_for__lt=week_start)
    )
    if not recipients.exists():
        return 0
    context = digest_context(week_start=week_start)
    rendered: dict[str, tuple[str, str, str]] = {}  # one rendering per language, for every manager who reads it
    queued = 0
    for user in recipients:
        language = user.email_language
        if language not in rendered:
            rendered[language] = email_render(template="insights/weekly_digest", context=context, language=language)
        subject, text, html = rendered[language]
        with transaction.atomic():
            # The conditional update is the claim: a second run for the same week finds it taken.
            claimed = (
                User.objects.filter(pk=user.pk)
                .filter(Q(digest_sent_for__isnull=True) | Q(digest_sent_for__lt=week_start))
                .update(digest_sent_for=week_start)
            )
            if claimed:
                message_queue(
                    channel=Channel.EMAIL, recipient=user.email, subject=subject, body_text=text, body_html=html
                )
                queued += 1
    return queued


def digest_subscribe(*, user: User, wants: bool) -> User:
    user.wants_weekly_digest = wants
    user.save(update_fields=["wants_weekly_digest"])
    return user
