"""Telling people and the apps above about a case: agents' emails, and the signals `insights`/`integrations` hear.

Sends only through `notifications.services.queue.message_queue`; must not change a case.
"""

from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from feedback.models import FollowUp, FollowUpEntry, User
from feedback.services.timeline import entry_add_line
from feedback.signals import agents_notified, follow_up_changed
from notifications.models import Channel
from notifications.services.emails import email_render
from notifications.services.queue import message_queue


def case_url(follow_up: FollowUp) -> str:
    return settings.SITE_URL + reverse("follow-up-detail", args=[follow_up.pk])


def agents_notify(follow_up: FollowUp, users: list[User], headline: str) -> None:
    """Email `headline` about the case to each active user in their own language (a lazy `headline` is
    translated for each), and tell the team's chat channel."""
    url = case_url(follow_up)
    by_language: dict[str, set[str]] = defaultdict(set)
    for user in users:
        if user.email and user.is_active:
            by_language[user.email_language].add(user.email)
    for language, emails in sorted(by_language.items()):
        subject, text, html = email_render(
            template="feedback/emails/agent_notice",
            context={"follow_up": follow_up, "headline": headline, "url": url},
            language=language,
        )
        for email in sorted(emails):
            message_queue(channel=Channel.EMAIL, recipient=email, subject=subject, body_text=text, body_html=html)
    # The team's chat channel (integrations) hears every notice once the change commits, even one that emails
    # nobody, in the site's language: a channel is shared by people who may have chosen different ones.
    with translation.override(settings.LANGUAGE_CODE):
        said = str(headline)
    transaction.on_commit(
        lambda: agents_notified.send(sender=FollowUp, follow_up=follow_up, headline=said, url=url), robust=True
    )


def follow_up_announce_arrival(follow_up: FollowUp) -> None:
    """Tell whoever must now work a case that arrived in its team: its assignee, or, while it waits in the
    team queue, the team's Slack channel (nobody is emailed about a queued case)."""
    if follow_up.assignee:
        entry_add_line(follow_up, FollowUpEntry.Kind.ASSIGNED, "assigned", email=follow_up.assignee.email)
        agents_notify(follow_up, [follow_up.assignee], _("New follow-up assigned to you"))
    else:
        agents_notify(follow_up, [], _("New follow-up in the team queue"))


def follow_up_announce(follow_up: FollowUp, event: str) -> None:
    """Tell the apps above, once the change commits, that a case was created, updated or resolved
    (`event`: "follow_up.created", "follow_up.updated", "follow_up.resolved"). Every write that changes
    what a case is counted as calls it: the rollups (insights) and webhooks (integrations) follow from it.
    A listener's failure is logged and never undoes the change."""
    follow_up_id = follow_up.pk
    transaction.on_commit(
        lambda: follow_up_changed.send(sender=FollowUp, follow_up_id=follow_up_id, event=event), robust=True
    )
