"""Writes of the theme rollups: count each analysed comment once under every theme it mentions (and under
"" for all analysed comments), move it when its themes or score change, take it out when it goes.

Reads responses, never changes them. The dashboard's Why section reads only `ThemeRollup`, so its cost
does not grow with the number of responses.
"""

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from insights.models import ThemeRollup, ThemeTally
from surveys.models import Response

ALL = ""


def _add(tally: ThemeTally, delta: int) -> None:
    common = {
        "day": tally.day,
        "survey_id": tally.survey_id,
        "channel": tally.channel,
        "event_type": tally.event_type,
        "score": tally.score,
    }
    keys = [ALL, *tally.themes]
    ThemeRollup.objects.bulk_create(
        [ThemeRollup(**common, kind=tally.kind, theme=theme, count=0) for theme in keys], ignore_conflicts=True
    )
    # One UPDATE with F() so concurrent counts add up instead of overwriting each other.
    ThemeRollup.objects.filter(Q(theme__in=keys), **common).update(count=F("count") + delta)


def _count(response_id: int) -> None:
    response = (
        Response.objects.select_for_update(of=("self",))
        .select_related("survey", "invitation__event")
        .filter(pk=response_id)
        .first()
    )
    tally = ThemeTally.objects.select_for_update().filter(response_id=response_id).first()
    # A comment the retention purge removed is still counted as what it was read as (its themes stay).
    written = response is not None and (bool(response.comment.strip()) or response.comment_purged_at is not None)
    counted = written and response.analysed_at is not None
    if tally is not None:
        if counted and tally.score == response.score and tally.themes == list(response.themes):
            return
        _add(tally, -1)
        if not counted:
            tally.delete()
            return
        tally.score, tally.themes = response.score, list(response.themes)
        tally.save(update_fields=["score", "themes"])
    elif not counted:
        return
    else:
        event = response.invitation.event
        tally = ThemeTally(
            response_id=response.pk,
            survey_id=response.survey_id,
            kind=response.survey.kind,
            day=timezone.localdate(response.confirmed_at),
            channel=response.invitation.channel,
            event_type=event.type if event else "",
            score=response.score,
            themes=list(response.themes),
        )
        tally.save(force_insert=True)
    _add(tally, 1)


def rollup_count_themes(*, response_id: int) -> None:
    """Count an analysed response's themes, or move them after a change; idempotent."""
    for attempt in range(2):
        try:
            with transaction.atomic():
                _count(response_id)
            return
        except IntegrityError:
            if attempt:
                raise


def rollup_uncount_themes(*, response_id: int) -> None:
    """Take a response about to be deleted out of the theme rollups; call inside the deleting transaction."""
    with transaction.atomic():
        tally = ThemeTally.objects.select_for_update().filter(response_id=response_id).first()
        if tally is not None:
            _add(tally, -1)
            tally.delete()


def full_theme_rollup_rows() -> dict[tuple, int]:
    """Every ThemeRollup bucket recomputed from the responses: {(day, survey, channel, event type, theme,
    score): count}, for `rebuild_rollups` and the bench's check."""
    counts: dict[tuple, int] = {}
    responses = (
        Response.objects.filter(~Q(comment="") | Q(comment_purged_at__isnull=False))
        .filter(analysed_at__isnull=False)
        .select_related("invitation__event")
        .only("pk", "survey_id", "score", "confirmed_at", "themes", "invitation__channel", "invitation__event__type")
        .order_by("pk")
    )
    for response in responses.iterator(chunk_size=2000):
        event = response.invitation.event
        base = (
            timezone.localdate(response.confirmed_at),
            response.survey_id,
            response.invitation.channel,
            event.type if event else "",
        )
        for theme in [ALL, *dict.fromkeys(response.themes)]:
            key = (*base, theme, response.score)
            counts[key] = counts.get(key, 0) + 1
    return counts
