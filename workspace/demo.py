"""The demo workspace loaded on first `make run`: surveys, rules, two teams and 90 days of past answers.

The history is what a mid-sized retailer would see: a purchase NPS by email, a support CSAT by email and
SMS, a returns CES by SMS and the store's QR code; about a quarter of customers answer, in English and
French, with comments from the analyser's labelled examples (`insights/text/data/dev_comments.jsonl`), so
themes and sentiment read real sentences. Each unhappy answer opens its case through the routing rules;
the team's assignment strategy gives it to an agent, who calls the customer and resolves it within the
team's business hours (a few run past their SLA). Everything is seeded: two loads give the same figures.

Past answers are stored as rows (their messages recorded as delivered, never sent), and nobody is
emailed; the rollups are rebuilt once at the end. The trigger rules have no delay, so a newcomer's first
event is surveyed at once.
"""

import math
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from feedback.business_hours import add_business_hours
from feedback.history_lines import history_line_fields
from feedback.models import FollowUp, FollowUpEntry, RootCause, RoutingRule, Team, User
from feedback.routing import ResponseFacts, RuleFacts, choose_rule
from feedback.services.assignment import team_assignee
from feedback.services.routing_rules import routing_rule_save
from feedback.services.sla import sla_dates, team_calendar
from feedback.services.users import user_create
from insights.rollups import rollup_rebuild
from insights.text.heads import dev_comments
from notifications.models import Channel, Message, ProviderEvent, recipient_normalize
from surveys.models import (
    AnswerChannel,
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
from surveys.scoring import is_detractor, is_promoter
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
HISTORY_DAYS = 90
CARE, RETURNS = "Customer Care", "Returns"
# The agents beside the demo's own login, by team; the last of Customer Care is away (on leave) today.
AGENTS = {
    CARE: ("agent@demo.closeloop.test", "camille.durand@demo.closeloop.test", "samir.haddad@demo.closeloop.test"),
    RETURNS: ("lea.moreau@demo.closeloop.test", "tom.bernard@demo.closeloop.test"),
}
AWAY = "samir.haddad@demo.closeloop.test"
# (name, outside the agents' control)
ROOT_CAUSES = (
    ("Late delivery", True),
    ("Damaged item", False),
    ("Product quality", False),
    ("Billing and refunds", False),
    ("Support experience", False),
    ("Website or app", False),
    ("Price", False),
    ("Other", False),
)
# The root cause an agent records for a comment's theme (the labelled examples carry their themes).
CAUSE_OF_THEME = {
    "delivery": "Late delivery",
    "product_quality": "Product quality",
    "billing_refund": "Billing and refunds",
    "customer_service": "Support experience",
    "website_app": "Website or app",
    "price": "Price",
}
# Stores and how their customers feel, as a shift of the unhappy share (Lille's stockroom is struggling).
STORES = (("Paris Opéra", 0.0), ("Lyon Part-Dieu", -0.07), ("Bordeaux", -0.02), ("Lille", 0.15), ("Online", 0.04))
PRODUCTS = ("Running shoes", "Rain jacket", "Hiking boots", "Backpack", "Fleece")
FIRST_NAMES = ("Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Giulia", "Hugo", "Inès", "Jules", "Karim", "Léa")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau", "Simon")
CONTACT_NOTES = (
    "Called the customer; we went through what happened.",
    "Phoned them back and apologised.",
    "Emailed a reply and then called.",
    "Spoke to the customer and offered a goodwill voucher.",
    "Called twice, reached them on the second try.",
)
RESOLUTION_NOTES = {
    FollowUp.Outcome.RECOVERED: ("Replacement sent.", "Refund issued.", "Voucher accepted, customer happy.", ""),
    FollowUp.Outcome.NOT_RECOVERED: ("Customer still unhappy with the answer.", "Wants to close their account.", ""),
    FollowUp.Outcome.UNREACHABLE: ("No answer after three calls.", "Voicemail left twice."),
}


@dataclass(frozen=True)
class Stream:
    """One way customers are asked: a survey after an event type, invitations a day (weekday, weekend), the
    channels it goes out on with their share, and the share who answer."""

    survey: str
    event_type: str
    per_day: tuple[int, int]
    channels: tuple[tuple[str, float], ...]
    answer_rate: dict[str, float]
    comments_from: str  # the labelled examples' event: purchase or support


STREAMS = (
    Stream("Purchase NPS", "purchase", (24, 14), ((Channel.EMAIL, 1.0),), {Channel.EMAIL: 0.24}, "purchase"),
    Stream(
        "Support CSAT",
        "support_ticket_solved",
        (10, 3),
        ((Channel.EMAIL, 0.65), (Channel.SMS, 0.35)),
        {Channel.EMAIL: 0.31, Channel.SMS: 0.36},
        "support",
    ),
    Stream(
        "Returns CES",
        "return_processed",
        (5, 3),
        ((Channel.SMS, 0.7), (Channel.EMAIL, 0.3)),
        {Channel.EMAIL: 0.27, Channel.SMS: 0.33},
        "support",
    ),
)
LINK_ANSWERS_PER_DAY = (0, 1)  # the store's QR code, answered by whoever scans it
OPENED_AFTER = timedelta(minutes=1)  # from an answer to its case


def demo_is_loaded() -> bool:
    return Survey.objects.exists() or User.objects.exists()


@transaction.atomic
def demo_load(*, days: int = HISTORY_DAYS, seed: int = 7) -> None:
    rng = random.Random(seed)
    surveys = _surveys()
    _keys_and_link(surveys["Purchase NPS"])
    teams = _teams()
    causes = {name: RootCause.objects.create(name=name, outside_agent_control=outside) for name, outside in ROOT_CAUSES}
    # Queued while the history is written: a strategy's assignment emails the agent, and the demo sends nothing;
    # the history's cases are handed out by each team's strategy below, with no email.
    returns_rule = RoutingRule.objects.create(
        position=1, survey=surveys["Returns CES"], team=teams[RETURNS], assignment=RoutingRule.Assignment.QUEUE
    )
    care_rule = RoutingRule.objects.create(position=2, team=teams[CARE], assignment=RoutingRule.Assignment.QUEUE)
    now = timezone.now()
    responses = _history(rng, surveys, days, now)
    _cases(rng, [pair for pair in responses if is_detractor(pair[0].survey.kind, pair[0].score)], causes, now)
    # Set after the history, whose resolutions must not send "did we fix it?" surveys to its made-up customers.
    for rule in (returns_rule, care_rule):
        rule.assignment = RoutingRule.Assignment.TEAM
        rule.fix_check_survey = surveys["Did we fix it?"]
        routing_rule_save(rule=rule)
    # The comments are read by the beat job analyse-pending-comments within seconds of the first start.
    Response.objects.exclude(comment="").update(analysis_pending=True)
    # History is written as rows, not through response_submit, so the dashboard's rollups are counted here.
    rollup_rebuild()


def _surveys() -> dict[str, Survey]:
    surveys = {
        "Purchase NPS": Survey.objects.create(name="Purchase NPS", kind=Survey.Kind.NPS, product_name="Acme Store"),
        "Support CSAT": Survey.objects.create(
            name="Support CSAT",
            kind=Survey.Kind.CSAT,
            product_name="Acme support",
            thank_you_text={
                "en": "Thanks! Our team reads every answer.",
                "fr": "Merci ! Notre équipe lit chaque réponse.",
            },
        ),
        "Returns CES": Survey.objects.create(name="Returns CES", kind=Survey.Kind.CES, product_name="Acme returns"),
        "Did we fix it?": Survey.objects.create(
            name="Did we fix it?",
            kind=Survey.Kind.THUMBS,
            question_text={
                "en": "We followed up on your feedback. Did we fix the problem?",
                "fr": "Nous avons donné suite à votre avis. Avons-nous réglé le problème ?",
            },
            thank_you_text={"en": "Thank you for telling us.", "fr": "Merci de nous l'avoir dit."},
        ),
    }
    TriggerRule.objects.create(
        event_type="purchase", survey=surveys["Purchase NPS"], channel=TriggerRule.ChannelChoice.EMAIL
    )
    TriggerRule.objects.create(
        event_type="support_ticket_solved",
        survey=surveys["Support CSAT"],
        channel=TriggerRule.ChannelChoice.EMAIL_THEN_SMS,
    )
    TriggerRule.objects.create(
        event_type="return_processed", survey=surveys["Returns CES"], channel=TriggerRule.ChannelChoice.SMS
    )
    return surveys


def _keys_and_link(nps: Survey) -> None:
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


def _teams() -> dict[str, Team]:
    for email, password, role in DEMO_LOGINS:
        # The demo's logins are published, local-only and meant to be typed: set past the password validators
        # (which refuse "demo-agent" for agent@demo…), as no real account ever is.
        user = user_create(email=email, role=role, team_name=CARE)
        user.set_password(password)
        user.save(update_fields=["password"])
    for team_name, emails in AGENTS.items():
        for email in emails:
            if not User.objects.filter(email=email).exists():
                first, last = email.split("@")[0].split(".")
                user = user_create(email=email, role=User.Role.AGENT, team_name=team_name)
                User.objects.filter(pk=user.pk).update(first_name=first.title(), last_name=last.title())
    manager = User.objects.get(email=DEMO_LOGINS[0][0])
    Team.objects.filter(name=CARE).update(
        time_zone="Europe/Paris",
        opens_at=time(9),
        closes_at=time(18),
        sla_hours=16,
        lead=manager,
        assignment=Team.Assignment.LEAST_OPEN,
    )
    Team.objects.filter(name=RETURNS).update(
        time_zone="Europe/Paris",
        working_days="0,1,2,3,4,5",
        sla_hours=12,
        lead=manager,
        assignment=Team.Assignment.ROUND_ROBIN,
    )
    return {team.name: team for team in Team.objects.all()}


# --- answers ---------------------------------------------------------------------------------------


def _comment_pools() -> dict[tuple[str, str, str], list[dict]]:
    """The labelled examples by (language, event, sentiment)."""
    pools: dict[tuple[str, str, str], list[dict]] = {}
    for row in dev_comments():
        pools.setdefault((row["language"], row["event"], row["sentiment"]), []).append(row)
    return pools


def _score(rng: random.Random, kind: str, unhappy: float) -> int:
    """A score whose chance of being unhappy is `unhappy`; the happy rest lean towards the top of the scale."""
    low, high = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}[kind]
    happy_from = {"nps": 7, "csat": 3, "ces": 4}[kind]
    if rng.random() < unhappy:
        # Unhappy answers gather just below the line (a 6 more often than a 0).
        return rng.choices(range(low, happy_from), weights=range(1, happy_from - low + 1))[0]
    happy = range(happy_from, high + 1)
    return rng.choices(happy, weights=[2] + [3] * (len(happy) - 2) + [4])[0]


def _comment(rng: random.Random, pools, stream: Stream, kind: str, score: int, language: str) -> tuple[str, list]:
    if is_detractor(kind, score):
        sentiment, chance = "negative", 0.85
    elif is_promoter(kind, score):
        sentiment, chance = "positive", 0.5
    else:
        sentiment, chance = rng.choice(("neutral", "neutral", "negative")), 0.4
    if rng.random() >= chance:
        return "", []
    pool = pools.get((language, stream.comments_from, sentiment)) or pools[(language, "purchase", sentiment)]
    row = rng.choice(pool)
    return row["text"], row["themes"]


def _history(rng: random.Random, surveys: dict[str, Survey], days: int, now: datetime) -> list[tuple]:
    """Invitations and answers of the last `days` days, as rows; returns (response, themes) of every answer."""
    pools = _comment_pools()
    contacts, events, messages, invitations, answers = [], [], [], [], []
    for days_ago in range(days, 0, -1):
        day = now - timedelta(days=days_ago)
        weekend = day.weekday() >= 5
        # Things get better over the quarter: the unhappy share falls by a third from the first day to today.
        trend = 0.06 * days_ago / HISTORY_DAYS
        for stream in STREAMS:
            for _ in range(rng.randint(*_spread(stream.per_day[1 if weekend else 0]))):
                sent_at = day.replace(hour=rng.randint(7, 19), minute=rng.randint(0, 59), second=0, microsecond=0)
                n = len(contacts)
                language = "fr" if rng.random() < 0.6 else "en"
                store, mood = rng.choice(STORES)
                channel = rng.choices([c for c, _ in stream.channels], weights=[w for _, w in stream.channels])[0]
                contact = Contact(
                    name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    email=f"customer{n}@example.com",
                    phone=f"+3361{n:07d}",
                    locale=language,
                    properties={"plan": rng.choice(("Club", "Club", "Standard"))},
                )
                event = Event(
                    source="demo",
                    type=stream.event_type,
                    external_id=f"demo-{n}",
                    occurred_at=sent_at - timedelta(minutes=5),
                    properties={"order_id": f"A{10000 + n}", "store": store, "product": rng.choice(PRODUCTS)},
                )
                bounced = rng.random() < 0.02
                message = Message(
                    channel=channel,
                    recipient=contact.email if channel == Channel.EMAIL else contact.phone,
                    subject="(demo history)",
                    body_text="(demo history)",
                    status=Message.Status.BOUNCED if bounced else Message.Status.DELIVERED,
                    sent_at=sent_at,
                )
                message.recipient_key = recipient_normalize(channel=channel, recipient=message.recipient)
                invitation = _invitation(rng, surveys[stream.survey], channel, language, sent_at)
                contacts.append(contact)
                events.append(event)
                messages.append(message)
                invitations.append(invitation)
                if bounced or rng.random() >= stream.answer_rate[channel]:
                    continue
                # Most answer within the hour; some the next day.
                answered_at = sent_at + timedelta(minutes=int(rng.lognormvariate(math.log(45), 1.4)) + 1)
                if answered_at >= now:
                    continue
                kind = surveys[stream.survey].kind
                score = _score(rng, kind, _unhappy_share(kind) + trend + mood)
                comment, themes = _comment(rng, pools, stream, kind, score, language)
                answers.append((len(invitations) - 1, score, comment, themes, answered_at))
        for _ in range(rng.randint(*LINK_ANSWERS_PER_DAY)):
            answered_at = day.replace(hour=rng.randint(10, 19), minute=rng.randint(0, 59))
            language = "fr" if rng.random() < 0.7 else "en"
            contacts.append(Contact(locale=language))
            events.append(None)
            messages.append(None)
            invitation = _invitation(rng, surveys["Purchase NPS"], AnswerChannel.LINK, language, answered_at)
            invitation.properties = {"link": DEMO_LINK_SLUG}
            invitations.append(invitation)
            score = _score(rng, Survey.Kind.NPS, _unhappy_share(Survey.Kind.NPS) + trend)
            comment, themes = _comment(rng, pools, STREAMS[0], Survey.Kind.NPS, score, language)
            answers.append((len(invitations) - 1, score, comment, themes, answered_at))
    return _store(rng, surveys, contacts, events, messages, invitations, answers)


def _spread(mean: int) -> tuple[int, int]:
    return max(0, mean - mean // 3), mean + mean // 3


def _unhappy_share(kind: str) -> float:
    """Today's share of unhappy answers before a store's mood: NPS detractors ~19%, CSAT 1–2 ~11%, CES 1–3 ~16%."""
    return {"nps": 0.16, "csat": 0.08, "ces": 0.13}[kind]


def _invitation(rng: random.Random, survey: Survey, channel: str, language: str, sent_at: datetime) -> Invitation:
    invitation = Invitation(
        public_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        survey=survey,
        channel=channel,
        locale=language,
        scheduled_at=sent_at,
        expires_at=sent_at + timedelta(days=28),
        status=Invitation.Status.QUEUED,
    )
    invitation.token_hash = token_hash(invitation_token(invitation.public_id))
    return invitation


def _store(rng, surveys, contacts, events, messages, invitations, answers) -> list[tuple]:
    """Write the rows in bulk; the creation times the database would set to now are set to the history's."""
    Contact.objects.bulk_create(contacts, batch_size=1000)
    for contact, event in zip(contacts, events, strict=True):
        if event is not None:
            event.contact = contact
    Event.objects.bulk_create([event for event in events if event is not None], batch_size=1000)
    Message.objects.bulk_create([message for message in messages if message is not None], batch_size=1000)
    for invitation, contact, event, message in zip(invitations, contacts, events, messages, strict=True):
        invitation.contact, invitation.event, invitation.message = contact, event, message
    Invitation.objects.bulk_create(invitations, batch_size=1000)
    # auto_now_add stamped these with now on insert; the funnel counts invitations on the day they were created.
    Invitation.objects.update(created_at=F("scheduled_at"))
    Message.objects.update(created_at=F("sent_at"))
    Event.objects.update(received_at=F("occurred_at"))
    answered = {index for index, *_ in answers}
    # SendGrid's open pixel: about half of those who did not answer still opened the email.
    ProviderEvent.objects.bulk_create(
        [
            ProviderEvent(provider="sendgrid", event_id=f"demo-open-{index}", kind="open", message=message)
            for index, message in enumerate(messages)
            if message is not None
            and message.channel == Channel.EMAIL
            and message.status == Message.Status.DELIVERED
            and (index in answered or rng.random() < 0.45)
        ],
        batch_size=1000,
    )
    responses = [
        Response(
            invitation=invitations[index],
            survey=invitations[index].survey,
            contact=contacts[index],
            score=score,
            comment=comment,
            confirmed_at=answered_at,
        )
        for index, score, comment, _, answered_at in answers
    ]
    Response.objects.bulk_create(responses, batch_size=1000)
    return [(response, themes) for response, (*_, themes, _) in zip(responses, answers, strict=True)]


# --- cases -----------------------------------------------------------------------------------------


def _cases(rng: random.Random, responses: list[tuple], causes: dict[str, RootCause], now: datetime) -> None:
    """A case for each unhappy answer, routed by the routing rules (`feedback.routing`, as a live answer is) in the
    order the answers came; the team's strategy assigns it; its agent calls the customer and resolves it in
    business hours. Written as rows, as the rest of the history: a live case's notices would email the agents."""
    rules = list(RoutingRule.objects.filter(is_active=True).select_related("team"))
    rule_facts = [RuleFacts.of(rule) for rule in rules]
    calendars = {rule.team_id: team_calendar(rule.team) for rule in rules}
    cases, entries, still_open = [], [], []
    older_seen = 0
    for response, themes in sorted(responses, key=lambda pair: pair[0].confirmed_at):
        event = response.invitation.event
        facts = ResponseFacts(
            survey_id=response.survey_id,
            kind=response.survey.kind,
            score=response.score,
            comment=response.comment,
            contact_properties=response.contact.properties,
            event_properties=event.properties if event else {},
        )
        chosen = choose_rule(facts, rule_facts)
        if chosen is None:
            continue
        rule = next(rule for rule in rules if rule.pk == chosen.id)
        team, calendar = rule.team, calendars[rule.team_id]
        opened = response.confirmed_at + OPENED_AFTER
        remind_at, due_at = sla_dates(opened, team, rule.sla_hours or team.sla_hours)
        case = FollowUp(
            response=response,
            team=team,
            rule=rule,
            priority=rule.priority,
            created_at=opened,
            due_at=due_at,
            remind_at=remind_at,
        )
        cases.append(case)
        entries.append(_line(case, FollowUpEntry.Kind.CREATED, opened, "routed", rule=str(rule)))
        contacted = add_business_hours(opened, rng.lognormvariate(math.log(1.5), 0.9), calendar)
        resolved = add_business_hours(contacted, rng.lognormvariate(math.log(4), 1.0), calendar)
        # This morning's queue: what came in over the last three days, what is still being worked, and one in four
        # older cases of the last ten days, the oldest first, waiting on their customer (overdue by now, whatever
        # the weekday: after a weekend the last three days' cases are not due yet).
        older = timedelta(days=3) <= now - opened < timedelta(days=10)
        if older:
            older_seen += 1
        if resolved > now or now - opened < timedelta(days=3) or (older and older_seen % 4 == 1):
            still_open.append(case)
            continue
        agent = case.assignee = _assign(team, opened)
        entries.append(_line(case, FollowUpEntry.Kind.ASSIGNED, opened, "assigned", email=agent.email))
        entries.append(_entry(case, FollowUpEntry.Kind.NOTE, contacted, author=agent, body=rng.choice(CONTACT_NOTES)))
        _resolve(rng, case, agent, resolved, themes, causes, entries)
    FollowUp.objects.bulk_create(cases, batch_size=500)
    # auto_now_add stamped cases and entries with now on insert; set back to when each happened.
    for case in cases:
        case.created_at = case.response.confirmed_at + OPENED_AFTER
    _demo_morning(still_open, entries, now)
    FollowUpEntry.objects.bulk_create(entries, batch_size=1000)
    for entry in entries:
        entry.created_at = entry.happened_at
    FollowUpEntry.objects.bulk_update(entries, ["created_at"], batch_size=500)
    FollowUp.objects.bulk_update(cases, ["created_at"], batch_size=500)


def _assign(team: Team, at: datetime) -> User | None:
    """The agent the team's strategy gives a case opened `at`; their last case is dated by the history's clock."""
    agent = team_assignee(team)
    if agent is not None:
        User.objects.filter(pk=agent.pk).update(last_assigned_at=at)
    return agent


def _resolve(rng, case: FollowUp, agent: User, resolved: datetime, themes, causes, entries: list) -> None:
    outcome = rng.choices(
        [FollowUp.Outcome.RECOVERED, FollowUp.Outcome.NOT_RECOVERED, FollowUp.Outcome.UNREACHABLE],
        weights=[55, 30, 15],
    )[0]
    cause = causes[next((CAUSE_OF_THEME[t] for t in themes if t in CAUSE_OF_THEME), rng.choice(list(causes)))]
    note = rng.choice(RESOLUTION_NOTES[outcome])
    case.status, case.outcome, case.root_cause = FollowUp.Status.RESOLVED, outcome, cause
    case.resolution_note, case.resolved_at = note, resolved
    if resolved > case.remind_at:
        case.reminded_at = case.remind_at
    if resolved > case.due_at:
        case.escalated_at = case.due_at
        entries.append(_line(case, FollowUpEntry.Kind.ESCALATED, case.due_at, "sla_breached"))
    line = {"cause": cause.name, "outcome": outcome, **({"note": note} if note else {})}
    wording = "resolved_with_note" if note else "resolved"
    entries.append(_line(case, FollowUpEntry.Kind.RESOLVED, resolved, wording, author=agent, **line))


def _entry(follow_up: FollowUp, kind: str, at: datetime, *, author: User | None = None, **fields) -> FollowUpEntry:
    entry = FollowUpEntry(follow_up=follow_up, kind=kind, author=author, **fields)
    entry.happened_at = at  # bulk_create stamps created_at with now; set back after the insert
    return entry


def _line(
    follow_up: FollowUp, kind: str, at: datetime, wording: str, *, author: User | None = None, **values
) -> FollowUpEntry:
    """A line of the history as the live case writes it (feedback/history_lines.py), read in each reader's language."""
    return _entry(follow_up, kind, at, author=author, **history_line_fields(wording, **values))


# How the open cases stand this morning, oldest first, in turn: (assigned by the team's strategy, status, a line
# on the timeline). They are due by their SLA, so the older ones are overdue: the inbox reads like a real queue.
MORNING = [
    (False, FollowUp.Status.NEW, ""),
    (True, FollowUp.Status.IN_PROGRESS, "Called, no answer; will try again after lunch."),
    (False, FollowUp.Status.NEW, ""),
    (True, FollowUp.Status.WAITING, "Asked for a photo of the damaged parcel."),
    (True, FollowUp.Status.NEW, ""),
    (True, FollowUp.Status.IN_PROGRESS, "Refund approved by the store manager."),
    (True, FollowUp.Status.WAITING, "Sent a returns label; waiting for the parcel."),
]


def _demo_morning(open_cases: list[FollowUp], entries: list[FollowUpEntry], now: datetime) -> None:
    """Give the stored open cases varied owners and states (rows only: the demo sends nothing), and snooze one.
    Each is assigned as it is stored, so least open counts the ones before it."""
    User.objects.filter(email=AWAY).update(is_away=True)
    for index, follow_up in enumerate(open_cases):
        assigned, status, note = MORNING[index % len(MORNING)]
        follow_up.status = status
        # Reminders and escalations that were due went out in the past: the first SLA scan has nothing to send.
        if follow_up.remind_at <= now:
            follow_up.reminded_at = follow_up.remind_at
        if follow_up.due_at <= now:
            follow_up.escalated_at = follow_up.due_at
            entries.append(_line(follow_up, FollowUpEntry.Kind.ESCALATED, follow_up.due_at, "sla_breached"))
        if assigned:
            follow_up.assignee = _assign(follow_up.team, follow_up.created_at)
            FollowUp.objects.filter(pk=follow_up.pk).update(assignee=follow_up.assignee)
        if follow_up.assignee is None:
            continue
        entries.append(
            _line(
                follow_up, FollowUpEntry.Kind.ASSIGNED, follow_up.created_at, "assigned", email=follow_up.assignee.email
            )
        )
        if note:
            at = min(now, follow_up.created_at + timedelta(hours=1))
            entries.append(_entry(follow_up, FollowUpEntry.Kind.NOTE, at, author=follow_up.assignee, body=note))
    waiting = [case for case in open_cases if case.status == FollowUp.Status.WAITING]
    if waiting:
        waiting[0].snoozed_until = now + timedelta(days=1)
    FollowUp.objects.bulk_update(open_cases, ["status", "reminded_at", "escalated_at", "snoozed_until"])
