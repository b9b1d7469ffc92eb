"""Writes of answers: record, change and comment the one response of an invitation, and its answers.

Announces confirmed responses with the `response_submitted` signal after commit; what an
answer means for follow-ups is `feedback`'s business, never decided here. Link scanners are
told apart from people here too: a burst of different scores on one link records nothing.
"""

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from surveys.models import Answer, Invitation, Question, Response
from surveys.signals import response_submitted, response_withdrawn


def invitation_is_open(invitation: Invitation) -> bool:
    return invitation.status not in (Invitation.Status.CANCELLED, Invitation.Status.EXPIRED) and (
        invitation.expires_at > timezone.now()
    )


COMMENT_MAX = 5000


def _comment_clean(comment: str) -> str:
    return comment.strip()[:COMMENT_MAX]


def _announce_on_commit(response: Response, *, created: bool, changed: tuple[str, ...] = ()) -> None:
    # The answer is saved whatever a receiver does next: its failure is logged, never shown to the customer.
    transaction.on_commit(
        lambda: response_submitted.send(sender=Response, response_id=response.pk, created=created, changed=changed),
        robust=True,
    )


def _score_check(invitation: Invitation, score: int) -> None:
    scale = invitation.survey.scale
    if score not in scale.scores:
        raise ValidationError({"score": f"Choose a score from {scale.low} to {scale.high}."})


def response_submit(*, invitation: Invitation, score: int, comment: str | None = None) -> Response:
    """Record or change the one response of an invitation (and its comment, when given), and announce
    it after commit: once, whatever changed."""
    _score_check(invitation, score)
    if not invitation_is_open(invitation):
        raise ValidationError({"invitation": "This survey is closed."})
    with transaction.atomic():
        # Locking the invitation serialises concurrent submissions of the same link.
        Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
        response, created = Response.objects.get_or_create(
            invitation=invitation,
            defaults={
                "survey_id": invitation.survey_id,
                "contact_id": invitation.contact_id,
                "score": score,
                "comment": _comment_clean(comment or ""),
                "confirmed_at": timezone.now(),
            },
        )
        changed = []
        if not created:
            if response.score != score:
                response.score = score
                changed.append("score")
            if comment is not None and _comment_clean(comment) != response.comment:
                response.comment = _comment_clean(comment)
                changed.append("comment")
            if not changed:
                return response
            response.save(update_fields=[*changed, "updated_at"])
        _announce_on_commit(response, created=created, changed=tuple(changed))
    return response


def _burst_key(invitation: Invitation) -> str:
    return f"surveys:score-burst:{invitation.pk}"


def response_submit_from_page(*, invitation: Invitation, score: int) -> Response | None:
    """Record a score posted by the respondent page, unless the link is being walked by a scanner.

    A person taps one score, maybe corrects it once; a scanner that renders pages confirms every
    score link of the email within seconds. When `SCANNER_DISTINCT_SCORES` different scores reach
    one link within `SCANNER_WINDOW_SECONDS`, the burst is undone (the response it created is
    removed, or the score it overwrote restored) and the link records nothing until it is quiet.
    Returns None when the score was not recorded.
    """
    _score_check(invitation, score)
    window = settings.SCANNER_WINDOW_SECONDS
    with transaction.atomic():
        # Scanners post a link's scores in parallel: the invitation's row lock makes each read of
        # the burst see the one written before it, whichever web process served it.
        Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
        now = timezone.now().timestamp()
        burst = cache.get(_burst_key(invitation))
        if burst is None or now - burst["last"] > window:
            before = Response.objects.filter(invitation=invitation).values_list("score", flat=True).first()
            burst = {"before": before, "scores": [], "last": now, "scanner": False}
        burst["last"] = now
        if score not in burst["scores"]:
            burst["scores"].append(score)
        if len(burst["scores"]) >= settings.SCANNER_DISTINCT_SCORES:
            if not burst["scanner"]:
                _response_restore(invitation=invitation, score=burst["before"])
            burst["scanner"] = True
        cache.set(_burst_key(invitation), burst, timeout=window * 2)
        if burst["scanner"]:
            return None
        return response_submit(invitation=invitation, score=score)


def _response_restore(*, invitation: Invitation, score: int | None) -> None:
    """Put the response back as it was before a scanner burst: gone if the burst created it."""
    with transaction.atomic():
        response = Response.objects.select_for_update().filter(invitation=invitation).first()
        if response is None:
            return
        if score is None:
            response_withdrawn.send(sender=Response, response_id=response.pk)
            response.delete()
            return
    if response.score != score:
        response_submit(invitation=invitation, score=score)


def response_comment(*, response: Response, comment: str) -> Response:
    """Keep the customer's reason; a changed one is announced like a changed score (routing rules and
    webhooks read comments too)."""
    comment = _comment_clean(comment)
    if comment == response.comment:
        return response
    response.comment = comment
    response.save(update_fields=["comment", "updated_at"])
    _announce_on_commit(response, created=False, changed=("comment",))
    return response


def answer_save(*, response: Response, question: Question, value: str | list[str]) -> Answer | None:
    """Save (or clear, when empty) the answer to one additional question; validated against the question."""
    clean = question.clean_value(value)
    if clean in ("", []):
        Answer.objects.filter(response=response, question=question).delete()
        return None
    defaults = {"value": clean}
    if question.kind == Question.Kind.FREE_TEXT:
        defaults["analysis_pending"] = True  # read again by insights' analyse_pending_comments
    answer, _ = Answer.objects.update_or_create(response=response, question=question, defaults=defaults)
    return answer
