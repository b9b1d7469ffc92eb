"""Writes of what `insights` read in comments and free-text answers: language, sentiment, themes.

Owns the analysis fields of `Response` and `Answer` and the `analysis_pending` flag that says a
text changed since it was last read. Computes nothing (the reading is `insights.text`'s job) and
never touches the score or the text. A result for a text that changed meanwhile is dropped: the
row stays pending and is read again. Announces a changed result with `response_analysed` after
commit, so routing, webhooks and rollups follow.
"""

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from surveys.models import Answer, Response
from surveys.signals import response_analysed

ANALYSIS_FIELDS = ("language", "sentiment", "sentiment_confidence", "themes")


def responses_mark_for_analysis(*, response_ids: Iterable[int]) -> int:
    """Flag responses whose comment must be read (again): those with a comment, or one read before (it may
    have been removed); returns how many rows were flagged."""
    return (
        Response.objects.filter(pk__in=list(response_ids))
        .filter(~Q(comment="") | Q(analysed_at__isnull=False))
        .update(analysis_pending=True)
    )


def responses_pending_analysis(*, limit: int) -> list[Response]:
    """Up to `limit` flagged responses, oldest first, with what reading them needs."""
    return list(
        Response.objects.filter(analysis_pending=True)
        .select_related("invitation")
        .only("pk", "comment", "score", "survey_id", "invitation__locale", *ANALYSIS_FIELDS)
        .order_by("pk")[:limit]
    )


def answers_pending_analysis(*, limit: int) -> list[Answer]:
    return list(
        Answer.objects.filter(analysis_pending=True)
        .select_related("response__invitation")
        .only("pk", "value", "response__invitation__locale", *ANALYSIS_FIELDS)
        .order_by("pk")[:limit]
    )


def _values(result) -> dict:
    return {
        "language": result.language,
        "sentiment": result.sentiment,
        "sentiment_confidence": result.sentiment_confidence,
        "themes": list(result.themes),
    }


def response_record_analysis(*, response_id: int, comment: str, result) -> bool:
    """Store `result` (an `insights.text.Analysis`, or None for an empty comment) for the comment it read.

    Returns True when the stored values changed (then `response_analysed` is sent after commit).
    A comment changed since it was read keeps the response pending and stores nothing.
    """
    with transaction.atomic():
        response = Response.objects.select_for_update().filter(pk=response_id).first()
        if response is None or response.comment != comment:
            return False
        values = (
            _values(result)
            if result is not None
            else {"language": "", "sentiment": "", "sentiment_confidence": None, "themes": []}
        )
        changed = any(getattr(response, field) != value for field, value in values.items())
        for field, value in values.items():
            setattr(response, field, value)
        response.analysis_pending = False
        response.analysed_at = timezone.now()
        response.save(update_fields=[*ANALYSIS_FIELDS, "analysis_pending", "analysed_at"])
        if changed:
            transaction.on_commit(lambda: response_analysed.send(sender=Response, response_id=response_id))
    return changed


def answers_record_analysis(*, results: Sequence[tuple[int, object, object]]) -> int:
    """Store `(answer_id, value read, result)` triples; an answer whose value changed meanwhile stays pending."""
    stored = 0
    now = timezone.now()
    with transaction.atomic():
        answers = Answer.objects.select_for_update().in_bulk([answer_id for answer_id, _v, _r in results])
        for answer_id, value, result in results:
            answer = answers.get(answer_id)
            if answer is None or answer.value != value:
                continue
            for field, field_value in _values(result).items():
                setattr(answer, field, field_value)
            answer.analysis_pending = False
            answer.analysed_at = now
            answer.save(update_fields=[*ANALYSIS_FIELDS, "analysis_pending", "analysed_at"])
            stored += 1
    return stored
