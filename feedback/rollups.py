"""Writes of the dashboard's rollups: count each answer once in its bucket, move it when its score changes,
refresh the invitation funnel, rebuild everything from scratch.

Reads responses, invitations and messages but never changes them; the dashboard and /v1/metrics read
only these tables, so their cost does not grow with the number of responses.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from feedback.models import FunnelRollup, ResponseTally, ScoreRollup
from notifications.models import Message
from surveys.models import Invitation, Response, Survey

TOTALS = ("", "")
FUNNEL_STAGES = ("scheduled", "sent", "delivered", "opened", "responded", "bounced", "opted_out", "throttled")
# The reasons `surveys.services.fatigue` records when it drops an invitation.
OPTED_OUT, THROTTLED = "opted_out", "throttled"
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
    """Count a new answer, or move a changed one from its old score's bucket to its new one; idempotent."""
    for attempt in range(2):
        try:
            with transaction.atomic():
                _count(response_id)
            return
        except IntegrityError:
            # A concurrent count of the same response created its tally first; the retry sees it.
            if attempt:
                raise


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


def _funnel_rows(since: date | None) -> list[FunnelRollup]:
    invitations = Invitation.objects.all()
    if since is not None:
        invitations = invitations.filter(created_at__gte=_start_of(since))
    rows = (
        invitations.annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "survey_id", "channel", "event__type")
        .annotate(
            scheduled=Count("pk"),
            sent=Count("pk", filter=Q(message__sent_at__isnull=False)),
            delivered=Count("pk", filter=Q(message__status=Message.Status.DELIVERED)),
            # No open tracking reaches us yet; an answer to an email proves it was opened.
            opened=Count("pk", filter=Q(channel="email", response__isnull=False)),
            responded=Count("pk", filter=Q(response__isnull=False)),
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
    rows = _funnel_rows(since)
    stale = FunnelRollup.objects.all() if since is None else FunnelRollup.objects.filter(day__gte=since)
    stale.delete()
    FunnelRollup.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


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
def rollup_rebuild() -> tuple[int, int]:
    """Throw the rollups away and recount everything; returns (score buckets, funnel rows)."""
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
    return len(buckets), rollup_refresh_funnel()
