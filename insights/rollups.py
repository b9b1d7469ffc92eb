"""Writes of the dashboard's rollups: count each answer once in its bucket, move it when its score changes,
count each case in its loop bucket and move it as it is worked, refresh the invitation funnel, rebuild
everything from scratch.

Reads responses, invitations, messages and cases but never changes them; the dashboard and /v1/metrics
read only these tables, so their cost does not grow with the number of responses or cases.

Just over 400 lines: the score, funnel and loop rollups share their bucket arithmetic and each has its
incremental count beside its full recount, which tests compare; split, the pairs would drift apart.
"""

from collections import Counter
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from feedback.business_hours import BusinessCalendar
from feedback.models import FollowUp, FollowUpEntry, Team
from feedback.services.sla import team_calendar
from insights.metrics import business_hours
from insights.models import FollowUpTally, FunnelRollup, LoopRollup, ResponseTally, ScoreRollup
from notifications.models import Message, ProviderEvent
from surveys.models import AnswerChannel, Invitation, Response, Survey
from surveys.scoring import is_detractor

TOTALS = ("", "")
FUNNEL_STAGES = ("scheduled", "sent", "delivered", "opened", "responded", "bounced", "opted_out", "throttled")
# The reasons `surveys.services.fatigue` records when it drops an invitation.
OPTED_OUT, THROTTLED = "opted_out", "throttled"
# The kind SendGrid gives the event its tracking pixel raises, as `notifications` stores it.
OPEN_EVENT = "open"
BOUNCED_STATUSES = [Message.Status.BOUNCED, Message.Status.FAILED, Message.Status.UNDELIVERED]


def _segment_values(response: Response) -> dict[str, str]:
    """The response's value of each breakdown property ("" when it has none)."""
    event = response.invitation.event
    sources = {"event": event.properties if event else {}, "contact": response.contact.properties}
    values = {}
    for name in settings.DASHBOARD_BREAKDOWN_PROPERTIES:
        source, _, key = name.partition(":")
        value = (sources.get(source) or {}).get(key, "")
        values[name] = str(value)[:200] if value is not None else ""
    return values


def rollup_forget_segments(*, response_id: int) -> None:
    """Move a counted answer from its breakdown buckets to the empty value's: the properties it was broken down
    by are being erased (a person's erasure keeping their answers as anonymous scores). Its totals stay."""
    with transaction.atomic():
        tally = (
            ResponseTally.objects.select_for_update(of=("self",))
            .select_related("response__survey")
            .filter(response_id=response_id)
            .first()
        )
        blank = dict.fromkeys(settings.DASHBOARD_BREAKDOWN_PROPERTIES, "")
        if tally is None or tally.segments == blank:
            return
        survey = tally.response.survey
        _add(tally, survey.pk, survey.kind, tally.score, -1)
        tally.segments = blank
        tally.save(update_fields=["segments"])
        _add(tally, survey.pk, survey.kind, tally.score, 1)


def _tally_for(response: Response) -> ResponseTally:
    event = response.invitation.event
    return ResponseTally(
        response_id=response.pk,
        score=response.score,
        day=timezone.localdate(response.confirmed_at),
        channel=response.invitation.channel,
        event_type=event.type if event else "",
        segments=_segment_values(response),
    )


def _add(tally: ResponseTally, survey_id: int, kind: str, score: int, delta: int) -> None:
    """Add `delta` to every bucket `tally` counts in (totals + one per breakdown property) at `score`."""
    keys = [TOTALS, *tally.segments.items()]
    common = {"day": tally.day, "survey_id": survey_id, "channel": tally.channel, "event_type": tally.event_type}
    ScoreRollup.objects.bulk_create(
        [ScoreRollup(**common, kind=kind, dimension=d, value=v, score=score, count=0) for d, v in keys],
        ignore_conflicts=True,
    )
    # One UPDATE with F() so concurrent counters add up instead of overwriting each other.
    buckets = Q()
    for dimension, value in keys:
        buckets |= Q(dimension=dimension, value=value)
    ScoreRollup.objects.filter(buckets, **common, score=score).update(count=F("count") + delta)


def rollup_count_response(*, response_id: int) -> None:
    """Count a new answer, or move a changed one from its old score's bucket to its new one; idempotent.

    A changed score also changes whether its case's answer is still unhappy, so the case is recounted too."""
    for attempt in range(2):
        try:
            with transaction.atomic():
                _count(response_id)
            break
        except IntegrityError:
            # A concurrent count of the same response created its tally first; the retry sees it.
            if attempt:
                raise
    follow_up_id = FollowUp.objects.filter(response_id=response_id).values_list("pk", flat=True).first()
    if follow_up_id is not None:
        rollup_count_follow_up(follow_up_id=follow_up_id)


def _count(response_id: int) -> None:
    # Locking the response orders concurrent counts of it: each reads the score committed last.
    response = (
        Response.objects.select_for_update(of=("self",))
        .select_related("survey", "contact", "invitation__event")
        .filter(pk=response_id)
        .first()
    )
    if response is None:
        return
    tally = ResponseTally.objects.select_for_update().filter(response_id=response_id).first()
    if tally is None:
        tally = _tally_for(response)
        tally.save(force_insert=True)
    elif tally.score == response.score:
        return
    else:
        _add(tally, response.survey_id, response.survey.kind, tally.score, -1)
        tally.score = response.score
        tally.save(update_fields=["score"])
    _add(tally, response.survey_id, response.survey.kind, response.score, 1)


def rollup_count_new_responses(*, responses: list[Response]) -> int:
    """Count many answers never counted before (an imported history) in a few statements, whatever their number:
    one tally each, and each bucket they fall in raised once by their number. Answers already counted are left
    alone. `responses` come with their survey, contact and invitation (and its event) loaded, as the caller just
    stored them. Returns how many were counted; call inside the transaction that stored them."""
    with transaction.atomic():
        counted = set(
            ResponseTally.objects.filter(response_id__in=[r.pk for r in responses]).values_list(
                "response_id", flat=True
            )
        )
        responses = [response for response in responses if response.pk not in counted]
        tallies, deltas = [], Counter()
        for response in responses:
            tally = _tally_for(response)
            tallies.append(tally)
            for dimension, value in [TOTALS, *tally.segments.items()]:
                key = (tally.day, response.survey_id, response.survey.kind, tally.channel, tally.event_type)
                deltas[(*key, dimension, value, response.score)] += 1
        if not tallies:
            return 0
        ResponseTally.objects.bulk_create(tallies, batch_size=1000)
        ScoreRollup.objects.bulk_create(
            [
                ScoreRollup(
                    day=day,
                    survey_id=survey_id,
                    kind=kind,
                    channel=channel,
                    event_type=event_type,
                    dimension=dimension,
                    value=value,
                    score=score,
                    count=0,
                )
                for day, survey_id, kind, channel, event_type, dimension, value, score in deltas
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        # Buckets raised by the same number share one UPDATE by primary key, with F() so concurrent counters add up.
        pks = _bucket_pks(deltas)
        by_delta: dict[int, list[int]] = {}
        for key, n in deltas.items():
            by_delta.setdefault(n, []).append(pks[key])
        for n, bucket_pks in by_delta.items():
            for start in range(0, len(bucket_pks), 500):
                ScoreRollup.objects.filter(pk__in=bucket_pks[start : start + 500]).update(count=F("count") + n)
    return len(tallies)


def _bucket_pks(keys) -> dict[tuple, int]:
    """The primary key of each bucket `(day, survey, kind, channel, event type, dimension, value, score)`, read in
    one query over the days and surveys they span (a filter per bucket costs more to build than to run)."""
    days = [key[0] for key in keys]
    fields = ("day", "survey_id", "kind", "channel", "event_type", "dimension", "value", "score")
    rows = ScoreRollup.objects.filter(
        day__gte=min(days), day__lte=max(days), survey_id__in={key[1] for key in keys}
    ).values_list(*fields, "pk")
    wanted = set(keys)
    return {row[:-1]: row[-1] for row in rows.iterator(chunk_size=5000) if row[:-1] in wanted}


def rollup_uncount_response(*, response_id: int) -> None:
    """Take a response about to be deleted out of its bucket; call inside the deleting transaction."""
    with transaction.atomic():
        tally = (
            ResponseTally.objects.select_for_update(of=("self",))
            .select_related("response__survey")
            .filter(response_id=response_id)
            .first()
        )
        if tally is None:
            return
        _add(tally, tally.response.survey_id, tally.response.survey.kind, tally.score, -1)
        tally.delete()


def _funnel_rows(invitations: QuerySet[Invitation]) -> list[FunnelRollup]:
    # An imported answer's invitation was never sent from here: the funnel counts what was.
    invitations = invitations.exclude(cancel_reason=Invitation.IMPORTED)
    rows = (
        invitations.annotate(
            day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()),
            was_opened=Exists(ProviderEvent.objects.filter(message_id=OuterRef("message_id"), kind=OPEN_EVENT)),
            # A lookup per recent invitation on the answers' unique index: joined instead, PostgreSQL hashed every
            # answer ever stored (2M at 10M invitations), and the refresh grew with the history.
            was_answered=Exists(Response.objects.filter(invitation_id=OuterRef("pk"))),
        )
        .values("day", "survey_id", "channel", "event__type")
        .annotate(
            scheduled=Count("pk"),
            # The web widget sends nothing: a card shown in the page is its invitation sent and delivered.
            sent=Count("pk", filter=Q(message__sent_at__isnull=False) | Q(channel=AnswerChannel.WEB)),
            delivered=Count("pk", filter=Q(message__status=Message.Status.DELIVERED) | Q(channel=AnswerChannel.WEB)),
            # SendGrid's open event, or an answer: image blocking hides many opens, an answer proves one.
            opened=Count("pk", filter=Q(channel="email") & (Q(was_opened=True) | Q(was_answered=True))),
            responded=Count("pk", filter=Q(was_answered=True)),
            bounced=Count("pk", filter=Q(message__status__in=BOUNCED_STATUSES)),
            opted_out=Count("pk", filter=Q(status=Invitation.Status.CANCELLED, cancel_reason=OPTED_OUT)),
            throttled=Count("pk", filter=Q(status=Invitation.Status.CANCELLED, cancel_reason=THROTTLED)),
        )
    )
    return [
        FunnelRollup(
            day=row["day"],
            survey_id=row["survey_id"],
            channel=row["channel"],
            event_type=row["event__type"] or "",
            **{stage: row[stage] for stage in FUNNEL_STAGES},
        )
        for row in rows
    ]


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


@transaction.atomic
def rollup_refresh_funnel(*, since: date | None = None) -> int:
    """Recount the funnel of invitations created on or after `since` (all when None); returns rows written.

    Invitations change state for as long as their link is open (sent, delivered, answered), so the
    recent days are recounted from the source rows rather than nudged by events that may be lost.
    """
    invitations = Invitation.objects.all()
    if since is not None:
        invitations = invitations.filter(created_at__gte=_start_of(since))
    if connection.vendor == "postgresql":
        # Its per-invitation lookups make the plan look costly enough for PostgreSQL to compile it (JIT): 2-4 s of
        # compiling, at 100k as at 10M stored invitations, for a count that runs in 0.4-0.6 s. For this transaction.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
    rows = _funnel_rows(invitations)
    stale = FunnelRollup.objects.all() if since is None else FunnelRollup.objects.filter(day__gte=since)
    stale.delete()
    FunnelRollup.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def rollup_funnel_forget(*, invitation_ids: list[int]) -> None:
    """Recount the funnel of the days these invitations were created on, without them: they are about to be
    deleted (a person's hard erasure). Call inside the deleting transaction."""
    created = Invitation.objects.filter(pk__in=invitation_ids).values_list("created_at", flat=True)
    days = sorted({timezone.localdate(at) for at in created})
    if not days:
        return
    on_days = Q()
    for day in days:
        on_days |= Q(created_at__gte=_start_of(day), created_at__lt=_start_of(day + timedelta(days=1)))
    rows = _funnel_rows(Invitation.objects.filter(on_days).exclude(pk__in=invitation_ids))
    FunnelRollup.objects.filter(day__in=days).delete()
    FunnelRollup.objects.bulk_create(rows)


def rollup_refresh_recent_funnel() -> int:
    """Recount the days whose invitations may still move: their links are open, plus a day of slack."""
    since = timezone.localdate() - timedelta(days=settings.INVITATION_EXPIRY_DAYS + 1)
    return rollup_refresh_funnel(since=since)


def full_score_rollup_rows() -> dict[tuple, int]:
    """Every ScoreRollup bucket recomputed from the responses themselves: {(day, survey, channel, event
    type, dimension, value, score): count}, streaming responses so memory stays flat."""
    counts: dict[tuple, int] = {}
    responses = Response.objects.select_related("contact", "invitation__event").order_by("pk")
    for response in responses.iterator(chunk_size=2000):
        tally = _tally_for(response)
        for dimension, value in [TOTALS, *tally.segments.items()]:
            key = (tally.day, response.survey_id, tally.channel, tally.event_type, dimension, value, response.score)
            counts[key] = counts.get(key, 0) + 1
    return counts


def stored_score_rollup_rows() -> dict[tuple, int]:
    fields = ("day", "survey_id", "channel", "event_type", "dimension", "value", "score")
    return {
        tuple(row[:-1]): row[-1]
        for row in ScoreRollup.objects.filter(count__gt=0).values_list(*fields, "count").iterator(chunk_size=5000)
    }


@transaction.atomic
def rollup_rebuild() -> tuple[int, int, int]:
    """Throw the rollups away and recount everything; returns (score buckets, funnel rows, loop buckets)."""
    ScoreRollup.objects.all().delete()
    ResponseTally.objects.all().delete()
    kinds = dict(Survey.objects.values_list("pk", "kind"))
    tallies = []
    responses = Response.objects.select_related("contact", "invitation__event").order_by("pk")
    for response in responses.iterator(chunk_size=2000):
        tallies.append(_tally_for(response))
        if len(tallies) >= 2000:
            ResponseTally.objects.bulk_create(tallies)
            tallies = []
    ResponseTally.objects.bulk_create(tallies)
    buckets = [
        ScoreRollup(
            day=day,
            survey_id=survey_id,
            kind=kinds[survey_id],
            channel=channel,
            event_type=event_type,
            dimension=dimension,
            value=value,
            score=score,
            count=n,
        )
        for (day, survey_id, channel, event_type, dimension, value, score), n in full_score_rollup_rows().items()
    ]
    ScoreRollup.objects.bulk_create(buckets, batch_size=2000)
    return len(buckets), rollup_refresh_funnel(), rollup_rebuild_loop()


# --- The loop --------------------------------------------------------------------------------------

LOOP_KEY = ("day", "answered_on", "survey_id", "channel", "event_type", "team_id", "assignee_id", "root_cause_id")
LOOP_FLAGS = ("contacted", "resolved", "within_sla", "recovered", "unhappy")
LOOP_COUNTERS = ("follow_ups", *LOOP_FLAGS)
TALLY_FIELDS = (*LOOP_KEY, *LOOP_FLAGS, "opened_at", "hours_to_first_contact", "hours_to_resolve")


def is_recovered(follow_up: FollowUp) -> bool:
    """A resolved case whose customer was won back: the agent recorded the outcome as recovered, or the
    customer answered "yes" to the "did we fix it?" survey of this resolution. A "no" reopens the case,
    so an agent's "recovered" the customer denies is not counted."""
    won_back = follow_up.outcome == FollowUp.Outcome.RECOVERED or follow_up.fix_confirmed is True
    return follow_up.resolved_at is not None and won_back


def _follow_up_facts(follow_up: FollowUp, first_contact_at: datetime | None, calendar: BusinessCalendar) -> dict:
    """Everything the loop counts about a case, as TALLY_FIELDS; `follow_up` comes with its response,
    survey, invitation and event. Durations are business hours on the case's team calendar."""
    response = follow_up.response
    event = response.invitation.event
    resolved_at = follow_up.resolved_at
    return {
        "day": timezone.localdate(follow_up.created_at),
        "answered_on": timezone.localdate(response.confirmed_at),
        "survey_id": response.survey_id,
        "channel": response.invitation.channel,
        "event_type": event.type if event else "",
        "team_id": follow_up.team_id,
        "assignee_id": follow_up.assignee_id or 0,
        "root_cause_id": follow_up.root_cause_id or 0,
        "contacted": first_contact_at is not None,
        "resolved": resolved_at is not None,
        "within_sla": resolved_at is not None and resolved_at <= follow_up.due_at,
        "recovered": is_recovered(follow_up),
        "unhappy": is_detractor(response.survey.kind, response.score),
        "opened_at": follow_up.created_at,
        "hours_to_first_contact": (
            business_hours(follow_up.created_at, first_contact_at, calendar) if first_contact_at else None
        ),
        "hours_to_resolve": business_hours(follow_up.created_at, resolved_at, calendar) if resolved_at else None,
    }


def _contacts():
    """What someone of ours wrote on cases: replies and notes (system entries do not count)."""
    return FollowUpEntry.objects.filter(author__isnull=False)


def _loop_bucket(facts: dict) -> tuple:
    return tuple(facts[name] for name in LOOP_KEY)


def _loop_counts(facts: dict) -> dict[str, int]:
    return {"follow_ups": 1, **{flag: int(facts[flag]) for flag in LOOP_FLAGS}}


def _move(old: dict | None, new: dict | None) -> None:
    """Take a case out of its old bucket and put it in its new one with F() updates, so concurrent moves
    add up; buckets are updated in key order so two opposite moves cannot deadlock."""
    deltas: dict[tuple, dict[str, int]] = {}
    for facts, sign in ((old, -1), (new, 1)):
        if facts is not None:
            bucket = deltas.setdefault(_loop_bucket(facts), dict.fromkeys(LOOP_COUNTERS, 0))
            for counter, n in _loop_counts(facts).items():
                bucket[counter] += sign * n
    for key in sorted(deltas):
        changes = {counter: F(counter) + n for counter, n in deltas[key].items() if n}
        if not changes:
            continue
        bucket = dict(zip(LOOP_KEY, key, strict=True))
        LoopRollup.objects.bulk_create([LoopRollup(**bucket)], ignore_conflicts=True)
        LoopRollup.objects.filter(**bucket).update(**changes)


def rollup_count_follow_up(*, follow_up_id: int) -> None:
    """Count a new case, or move a changed one to the bucket it belongs in now; idempotent.

    Called once per change to a case, after it commits (feedback's `follow_up_changed`); a count lost to
    a crash in between is restored by `rebuild_rollups`."""
    with transaction.atomic():
        # Locking the case orders concurrent recounts of it: each reads what the one before committed.
        follow_up = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("team", "response__survey", "response__invitation__event")
            .filter(pk=follow_up_id)
            .first()
        )
        if follow_up is None:
            return
        first_contact_at = _contacts().filter(follow_up_id=follow_up_id).aggregate(first=Min("created_at"))["first"]
        facts = _follow_up_facts(follow_up, first_contact_at, team_calendar(follow_up.team))
        tally = FollowUpTally.objects.filter(follow_up_id=follow_up_id).first()
        old = {name: getattr(tally, name) for name in TALLY_FIELDS} if tally else None
        if old == facts:
            return
        _move(old, facts)
        FollowUpTally.objects.update_or_create(follow_up_id=follow_up_id, defaults=facts)


def rollup_uncount_follow_up(*, follow_up_id: int) -> None:
    """Take a case about to be deleted out of its bucket; call inside the deleting transaction."""
    with transaction.atomic():
        tally = FollowUpTally.objects.select_for_update().filter(follow_up_id=follow_up_id).first()
        if tally is None:
            return
        _move({name: getattr(tally, name) for name in TALLY_FIELDS}, None)
        tally.delete()


def full_follow_up_facts():
    """(case id, TALLY_FIELDS facts) of every case, recomputed from the cases themselves, streamed."""
    first_contacts = dict(
        _contacts().values("follow_up_id").annotate(first=Min("created_at")).values_list("follow_up_id", "first")
    )
    calendars = {team.pk: team_calendar(team) for team in Team.objects.all()}
    follow_ups = FollowUp.objects.select_related("response__survey", "response__invitation__event").order_by("pk")
    for follow_up in follow_ups.iterator(chunk_size=2000):
        yield follow_up.pk, _follow_up_facts(follow_up, first_contacts.get(follow_up.pk), calendars[follow_up.team_id])


def _add_to_rows(rows: dict[tuple, list[int]], facts: dict) -> None:
    bucket = rows.setdefault(_loop_bucket(facts), [0] * len(LOOP_COUNTERS))
    for i, n in enumerate(_loop_counts(facts).values()):
        bucket[i] += n


def full_loop_rollup_rows() -> dict[tuple, tuple[int, ...]]:
    """Every LoopRollup bucket recomputed from the cases: {LOOP_KEY values: LOOP_COUNTERS values}."""
    rows: dict[tuple, list[int]] = {}
    for _, facts in full_follow_up_facts():
        _add_to_rows(rows, facts)
    return {key: tuple(counts) for key, counts in rows.items()}


def stored_loop_rollup_rows() -> dict[tuple, tuple[int, ...]]:
    empty = Q(**dict.fromkeys(LOOP_COUNTERS, 0))
    rows = LoopRollup.objects.exclude(empty).values_list(*LOOP_KEY, *LOOP_COUNTERS).iterator(chunk_size=5000)
    return {tuple(row[: len(LOOP_KEY)]): tuple(row[len(LOOP_KEY) :]) for row in rows}


def stored_follow_up_facts() -> dict[int, dict]:
    return {
        row["follow_up_id"]: {name: row[name] for name in TALLY_FIELDS}
        for row in FollowUpTally.objects.values("follow_up_id", *TALLY_FIELDS).iterator(chunk_size=5000)
    }


@transaction.atomic
def rollup_rebuild_loop() -> int:
    """Throw the loop rollups away and recount every case; returns the number of buckets."""
    LoopRollup.objects.all().delete()
    FollowUpTally.objects.all().delete()
    rows: dict[tuple, list[int]] = {}
    tallies = []
    for follow_up_id, facts in full_follow_up_facts():
        _add_to_rows(rows, facts)
        tallies.append(FollowUpTally(follow_up_id=follow_up_id, **facts))
        if len(tallies) >= 2000:
            FollowUpTally.objects.bulk_create(tallies)
            tallies = []
    FollowUpTally.objects.bulk_create(tallies)
    buckets = [
        LoopRollup(**dict(zip(LOOP_KEY, key, strict=True)), **dict(zip(LOOP_COUNTERS, counts, strict=True)))
        for key, counts in rows.items()
    ]
    LoopRollup.objects.bulk_create(buckets, batch_size=2000)
    return len(buckets)
