"""What the loop does when an answer is withdrawn (a mail scanner's burst undone: `response_withdrawn`).

Runs inside the transaction that deletes the answer, before it is gone: the agent the case it opened was
assigned to is told by email (and the team's Slack, through `agents_notified`), so nobody calls a customer
who never answered; the integrations that were told about it hear `survey_response.deleted` and
`follow_up.withdrawn` from their own receiver (integrations/receivers.py). It must not delete anything
itself: deleting the answer (and its case with it) is surveys' job.
"""

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from feedback.models import FollowUp
from feedback.signals import agents_notified
from notifications.models import Channel
from notifications.services.emails import email_render
from notifications.services.queue import message_queue

WITHDRAWN_HEADLINE = _("Withdrawn: a mail scanner answered, not the customer; no need to contact them")


def response_withdrawal_announce(*, response_id: int) -> None:
    follow_up = FollowUp.objects.select_related("team", "assignee", "response").filter(response_id=response_id).first()
    if follow_up is None:
        return
    url = settings.SITE_URL + reverse("follow-up-inbox")
    assignee = follow_up.assignee
    if assignee is not None and assignee.is_active and assignee.email:
        subject, text, html = email_render(
            template="feedback/emails/agent_notice",
            context={"follow_up": follow_up, "headline": WITHDRAWN_HEADLINE, "url": url},
            language=assignee.email_language,
        )
        message_queue(channel=Channel.EMAIL, recipient=assignee.email, subject=subject, body_text=text, body_html=html)
    # The team's chat channel (integrations) hears it once the withdrawal commits, in the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        said = str(WITHDRAWN_HEADLINE)
    transaction.on_commit(
        lambda: agents_notified.send(sender=FollowUp, follow_up=follow_up, headline=said, url=url),
        robust=True,
    )
