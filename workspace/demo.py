"""The demo workspace loaded on first `make run`: surveys, rules, a team and past answers.

Past answers are stored as history (their messages are recorded as delivered, never sent);
the trigger rules have no delay, so a newcomer's first event is surveyed at once.
"""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from feedback.models import FollowUp, FollowUpEntry, RootCause, RoutingRule, Team, User
from feedback.services.answers import follow_up_open_for_response
from feedback.services.resolution import follow_up_resolve
from feedback.services.routing_rules import routing_rule_save
from feedback.services.users import user_create
from insights.rollups import rollup_rebuild
from notifications.models import Channel, Message
from surveys.models import (
    ApiKey,
    Contact,
    Event,
    Invitation,
    PublishableKey,
    Response,
    Survey,
    SurveyLink,
    TriggerRule,
)
from surveys.tokens import invitation_token, token_hash

DEMO_API_KEY = "cl_demo_key_for_local_use_only"
# The web widget's demo key: public like any publishable key, allowed on the usual local development servers.
DEMO_WIDGET_KEY = "pk_demo_widget_for_local_use_only"
DEMO_WIDGET_ORIGINS = (
    "http://localhost:3000",
    "http://127.0.0.1:3000",
    "http://localhost:8080",
    "http://127.0.0.1:8080",
)
# The store's public link (its QR code on receipts, a kiosk at the till) of the purchase survey.
DEMO_LINK_SLUG = "acme-store"
DEMO_LOGINS = (
    ("manager@demo.closeloop.test", "demo-manager", User.Role.MANAGER),
    ("agent@demo.closeloop.test", "demo-agent", User.Role.AGENT),
)
ROOT_CAUSES = ("Late delivery", "Damaged item", "Billing", "Product quality", "Support experience", "Other")
COMMENTS = {
    "low": ["Parcel arrived two days late.", "The box was crushed.", "Nobody answered my emails.", ""],
    "mid": ["Fine, nothing special.", "", "Delivery was OK."],
    "high": ["Great service!", "Fast and friendly.", "", "Love the product."],
}
FIRST_NAMES = ("Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Giulia", "Hugo", "Inès", "Jules")


def demo_is_loaded() -> bool:
    return Survey.objects.exists() or User.objects.exists()


@transaction.atomic
def demo_load(*, history_size: int = 80, seed: int = 7) -> None:
    rng = random.Random(seed)
    nps = Survey.objects.create(name="Purchase NPS", kind=Survey.Kind.NPS, product_name="Acme Store")
    csat = Survey.objects.create(
        name="Support CSAT",
        kind=Survey.Kind.CSAT,
        product_name="Acme support",
        thank_you_message="Thanks! Our team reads every answer.",
    )
    TriggerRule.objects.create(event_type="purchase", survey=nps, channel=TriggerRule.ChannelChoice.EMAIL)
    TriggerRule.objects.create(
        event_type="support_ticket_solved", survey=csat, channel=TriggerRule.ChannelChoice.EMAIL_THEN_SMS
    )
    ApiKey.objects.create(
        name="Demo key",
        prefix=DEMO_API_KEY[:10],
        key_hash=token_hash(DEMO_API_KEY),
        scopes=list(ApiKey.Scope.values),
        survey=nps,
    )
    PublishableKey.objects.create(
        name="Demo web widget", key=DEMO_WIDGET_KEY, survey=nps, allowed_origins=list(DEMO_WIDGET_ORIGINS)
    )
    SurveyLink.objects.create(survey=nps, slug=DEMO_LINK_SLUG, kiosk_enabled=True)
    for email, password, role in DEMO_LOGINS:
        # The demo's logins are published, local-only and meant to be typed: set past the password validators
        # (which refuse "demo-agent" for agent@demo…), as no real account ever is.
        user = user_create(email=email, role=role, team_name="Customer Care")
        user.set_password(password)
        user.save(update_fields=["password"])
    fix_check = Survey.objects.create(
        name="Did we fix it?",
        kind=Survey.Kind.THUMBS,
        question_text={
            "en": "We followed up on your feedback. Did we fix the problem?",
            "fr": "Nous avons donné suite à votre avis. Avons-nous réglé le problème ?",
        },
        thank_you_message="Thank you for telling us.",
    )
    team = Team.objects.get(name="Customer Care")
    # Queued, not assigned: assignment emails an agent, and the demo sends nothing; cases are handed out below.
    rule = RoutingRule.objects.create(position=1, team=team, assignment=RoutingRule.Assignment.QUEUE)
    causes = [RootCause.objects.create(name=name) for name in ROOT_CAUSES]
    agent = User.objects.get(email=DEMO_LOGINS[1][0])
    _load_history(rng, [nps, csat], history_size, causes, agent)
    # Set after the history, whose resolutions must not send "did we fix it?" surveys to its made-up customers.
    rule.fix_check_survey = fix_check
    routing_rule_save(rule=rule)
    # History is written as rows, not through response_submit, so the dashboard's rollups are counted here.
    rollup_rebuild()


def _load_history(rng: random.Random, surveys: list[Survey], size: int, causes: list[RootCause], agent: User) -> None:
    now = timezone.now()
    for index in range(size):
        survey = surveys[index % len(surveys)]
        name = f"{FIRST_NAMES[index % len(FIRST_NAMES)]} Demo{index}"
        contact = Contact.objects.create(
            name=name, email=f"customer{index}@example.com", locale=rng.choice(["en", "fr"])
        )
        sent_at = now - timedelta(days=rng.randint(1, 30), hours=rng.randint(0, 23))
        event = Event.objects.create(
            source="demo",
            type="purchase" if survey.kind == Survey.Kind.NPS else "support_ticket_solved",
            external_id=f"demo-{index}",
            occurred_at=sent_at,
            properties={"order_id": f"A{1000 + index}"}
            if survey.kind == Survey.Kind.NPS
            else {"ticket_id": 500 + index},
            contact=contact,
        )
        message = Message.objects.create(
            channel=Channel.EMAIL,
            recipient=contact.email,
            subject="(demo history)",
            body_text="(demo history)",
            status=Message.Status.DELIVERED,
            sent_at=sent_at,
        )
        invitation = Invitation(
            contact=contact,
            survey=survey,
            event=event,
            channel=Channel.EMAIL,
            locale=contact.locale,
            scheduled_at=sent_at,
            expires_at=sent_at + timedelta(days=28),
            status=Invitation.Status.QUEUED,
            message=message,
        )
        invitation.token_hash = token_hash(invitation_token(invitation.public_id))
        invitation.save()
        if rng.random() < 0.4:
            continue
        scale = survey.scale
        score = rng.choice(list(scale.scores))
        band = "low" if score <= scale.low + (scale.high - scale.low) // 2 else "high"
        response = Response.objects.create(
            invitation=invitation,
            survey=survey,
            contact=contact,
            score=score,
            comment=rng.choice(COMMENTS[band]),
            confirmed_at=sent_at + timedelta(hours=rng.randint(1, 12)),
        )
        follow_up = follow_up_open_for_response(response_id=response.pk)
        if follow_up and rng.random() < 0.5:
            follow_up_resolve(
                follow_up=follow_up,
                author=agent,
                root_cause=rng.choice(causes),
                outcome="recovered",
                note="Called back.",
            )
    # The demo's comments are read by the beat job analyse-pending-comments within seconds of the first start.
    Response.objects.exclude(comment="").update(analysis_pending=True)
    _demo_morning(agent, now)


# How the open cases stand this morning, in turn: (assigned to the agent, status, hours until due, a line on the
# timeline). Due times spread from two hours overdue to tomorrow, so the inbox reads like a real queue.
MORNING = [
    (False, FollowUp.Status.NEW, 3, ""),
    (True, FollowUp.Status.IN_PROGRESS, -2, "Called, no answer; will try again after lunch."),
    (False, FollowUp.Status.NEW, 1, ""),
    (True, FollowUp.Status.WAITING, 20, "Asked for a photo of the damaged parcel."),
    (True, FollowUp.Status.NEW, 5, ""),
    (False, FollowUp.Status.NEW, -1, ""),
    (True, FollowUp.Status.IN_PROGRESS, 30, "Refund approved by the store manager."),
]


def _demo_morning(agent: User, now) -> None:
    """Give the open cases varied owners, states and due times (rows only: the demo sends nothing), and snooze one."""
    open_cases = list(FollowUp.objects.filter(status=FollowUp.Status.NEW).order_by("pk"))
    for index, follow_up in enumerate(open_cases):
        assigned, status, hours, note = MORNING[index % len(MORNING)]
        FollowUp.objects.filter(pk=follow_up.pk).update(
            assignee=agent if assigned else None,
            status=status,
            due_at=now + timedelta(hours=hours, minutes=7 * (index % 5)),
            remind_at=None,
            created_at=now - timedelta(hours=4 + index % 9),
        )
        if note:
            FollowUpEntry.objects.create(follow_up=follow_up, kind=FollowUpEntry.Kind.NOTE, author=agent, body=note)
    if len(open_cases) > len(MORNING):
        FollowUp.objects.filter(pk=open_cases[-1].pk).update(snoozed_until=now + timedelta(days=1))
