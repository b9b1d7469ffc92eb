"""Writes of answers: record, change and comment the one response of an invitation, and its answers.

Announces confirmed responses through the outbox of `surveys.services.announcements` (written in the answer's
transaction, `response_submitted` sent by a worker after commit); what an answer means for follow-ups is
`feedback`'s business, never decided here. Link scanners are
told apart from people here too: a burst of different scores on one link records nothing.
"""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from config.cache import cache_add_or_get
from surveys.models import Answer, Invitation, Question, Response
from surveys.scanners import automatic_reason
from surveys.selectors import invitation_lock_response
from surveys.services.announcements import response_announcement_add, response_create_announced
from surveys.services.rows import rows_insert
from surveys.signals import response_withdrawn
from surveys.tokens import token_hash


def invitation_is_open(invitation: Invitation) -> bool:
    return invitation.status not in (Invitation.Status.CANCELLED, Invitation.Status.EXPIRED) and (
        invitation.expires_at > timezone.now()
    )


COMMENT_MAX = 5000


def _comment_clean(comment: str) -> str:
    return comment.strip()[:COMMENT_MAX]


def _announce_on_commit(response: Response, *, created: bool, changed: tuple[str, ...] = ()) -> None:
    # In the answer's own transaction: the answer is saved whatever happens next, and announced exactly once.
    response_announcement_add(response=response, created=created, changed=changed)


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
        response = invitation_lock_response(invitation)
        created = response is None
        if created:
            response = Response.objects.create(
                invitation=invitation,
                survey_id=invitation.survey_id,
                contact_id=invitation.contact_id,
                score=score,
                comment=_comment_clean(comment or ""),
                confirmed_at=timezone.now(),
            )
        changed = []
        if not created and response.held_reason:
            # A held answer written by the company (API) is no longer a machine's guess: announced as new.
            response.held_reason, response.score, response.confirmed_at = "", score, timezone.now()
            if comment is not None:
                response.comment = _comment_clean(comment)
            response.save(update_fields=["held_reason", "score", "comment", "confirmed_at", "updated_at"])
            _announce_on_commit(response, created=True)
            return response
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


def _burst_count(burst: dict, score: int, client: str, now: float) -> bool:
    """Count a POSTed score in the link's burst; True when it is the one that makes the burst a scanner's."""
    burst["last"] = now
    if score not in burst["scores"]:
        burst["scores"].append(score)
    if client not in burst["clients"] and not burst["scanner"]:
        # Only the clients that made the burst are silenced by it; one arriving later is heard.
        burst["clients"].append(client)
    detected = len(burst["scores"]) >= settings.SCANNER_DISTINCT_SCORES and not burst["scanner"]
    burst["scanner"] = burst["scanner"] or detected
    return detected


@dataclass(frozen=True)
class PageOutcome:
    """What a page POST did: `recorded` or not; `browser_token` is the answering browser's new cookie
    ("" = keep the one it has); `change_step` sends the client to the explicit "change my answer" step."""

    response: Response | None
    recorded: bool
    browser_token: str = ""
    change_step: bool = False


def _seconds_since_sent(invitation: Invitation) -> float | None:
    message = invitation.message
    sent_at = message.sent_at if message is not None else None
    return (timezone.now() - sent_at).total_seconds() if sent_at else None


def _owns(response: Response, browser_token: str) -> bool:
    return bool(browser_token and response.browser_hash) and secrets.compare_digest(
        token_hash(browser_token), response.browser_hash
    )


def _new_owner(response: Response) -> str:
    token = secrets.token_urlsafe(32)
    response.browser_hash = token_hash(token)
    return token


def response_submit_from_page(
    *,
    invitation: Invitation,
    score: int,
    browser_token: str = "",
    user_agent: str = "",
    client: str = "",
    auto_confirm: bool = False,
    change: bool = False,
) -> PageOutcome:
    """Record a score posted by the respondent page, unless it would let a machine speak for the customer.

    - The first answer is kept; only the browser that gave it (its cookie, `browser_token`) or an
      explicit "change my answer" step (`change`, a tap on that step's form) changes it. Any other
      POST, a scanner's replay 35 s later for one, records nothing and is sent to that step.
    - An answer judged automatic (`surveys.scanners`) is kept but held: no case, no webhook, no
      rollup. The same browser's next step confirms it; a person's tap from another client replaces it.
    - `SCANNER_DISTINCT_SCORES` different scores on one link within `SCANNER_WINDOW_SECONDS` is a
      scanner walking the email's links: what the burst did is undone (a created answer withdrawn,
      announced with `response_withdrawn` if it had been announced) and the clients that took part
      (`client`: address and user agent) record nothing until the link is quiet. Other clients, the
      customer's phone for one, are never dropped for someone else's burst.
    """
    _score_check(invitation, score)
    if not invitation_is_open(invitation):
        raise ValidationError({"invitation": "This survey is closed."})
    window = settings.SCANNER_WINDOW_SECONDS
    with transaction.atomic():
        # Scanners post a link's scores in parallel: the invitation's row lock makes each read of
        # the burst see the one written before it, whichever web process served it.
        current = invitation_lock_response(invitation)
        now = timezone.now().timestamp()
        before = current.score if current else None
        burst = {"before": before, "scores": [], "clients": [], "last": now, "scanner": False}
        detected = _burst_count(burst, score, client, now)
        # A link seldom has a burst going: the new one is stored unless one is there, in one round trip.
        going = cache_add_or_get(caches["default"], _burst_key(invitation), burst, timeout=window * 2)
        if going is not None:
            if now - going["last"] <= window:
                burst = going
                detected = _burst_count(burst, score, client, now)
            cache.set(_burst_key(invitation), burst, timeout=window * 2)
        if detected:
            current = _response_restore(invitation=invitation, score=burst["before"])
        if burst["scanner"] and client in burst["clients"]:
            return PageOutcome(current, recorded=False)
        reason = automatic_reason(
            user_agent=user_agent,
            # Only the page's own confirmation is judged by its timing: a tap reads no message.
            seconds_since_sent=_seconds_since_sent(invitation) if auto_confirm else None,
            auto_confirm=auto_confirm,
            in_burst=False,
            delivery_seconds=settings.SCANNER_DELIVERY_SECONDS,
        )
        if current is None:
            response = Response(
                invitation=invitation,
                survey_id=invitation.survey_id,
                contact_id=invitation.contact_id,
                score=score,
                confirmed_at=timezone.now(),
                held_reason=reason,
            )
            token = _new_owner(response)
            # Model.save's statement, built and adapted by the ORM, cost more CPU; an answer announced at once
            # goes in with its announcement, in one statement.
            if reason:
                rows_insert([response])
            else:
                response_create_announced(response=response)
            return PageOutcome(response, recorded=True, browser_token=token)
        if _owns(current, browser_token):
            return PageOutcome(_page_change(current, score, reason), recorded=True)
        if (current.held_reason and not reason) or (change and not reason):
            # A person's tap replaces a held (machine's) answer; an explicit change step changes any.
            token = _new_owner(current)
            current.save(update_fields=["browser_hash"])
            return PageOutcome(_page_change(current, score, reason), recorded=True, browser_token=token)
        return PageOutcome(current, recorded=False, change_step=True)


def _page_change(response: Response, score: int, reason: str) -> Response:
    """Change the score of a page answer; a held answer changed by a person is confirmed (announced as new)."""
    if response.held_reason:
        response.score = score
        if reason:
            response.save(update_fields=["score", "updated_at"])
            return response
        response.held_reason = ""
        response.confirmed_at = timezone.now()
        response.save(update_fields=["score", "held_reason", "confirmed_at", "updated_at"])
        _announce_on_commit(response, created=True)
        return response
    return response_submit(invitation=response.invitation, score=score)


def response_confirm(*, response: Response) -> Response:
    """A held answer confirmed by its browser (its reason or next answer): announced as a new answer."""
    if not response.held_reason:
        return response
    response.held_reason = ""
    response.confirmed_at = timezone.now()
    response.save(update_fields=["held_reason", "confirmed_at", "updated_at"])
    _announce_on_commit(response, created=True)
    return response


def response_owned_by(*, response: Response, browser_token: str) -> bool:
    return _owns(response, browser_token)


def _response_restore(*, invitation: Invitation, score: int | None) -> Response | None:
    """Put the response back as it was before a scanner burst: gone if the burst created it (withdrawn,
    with `response_withdrawn`, when it had been announced; a held one was never told to anyone)."""
    with transaction.atomic():
        response = Response.objects.select_for_update().filter(invitation=invitation).first()
        if response is None:
            return None
        if score is None:
            if not response.held_reason:
                response_withdrawn.send(sender=Response, response_id=response.pk)
            response.delete()
            return None
    if response.score != score:
        if response.held_reason:
            response.score = score
            response.save(update_fields=["score", "updated_at"])
        else:
            response = response_submit(invitation=invitation, score=score)
    return response


def response_comment(*, response: Response, comment: str) -> Response:
    """Keep the customer's reason; a changed one is announced like a changed score (routing rules and
    webhooks read comments too)."""
    comment = _comment_clean(comment)
    if comment == response.comment:
        return response
    response.comment = comment
    with transaction.atomic():  # the reason and its announcement commit together
        response.save(update_fields=["comment", "updated_at"])
        _announce_on_commit(response, created=False, changed=("comment",))
    return response


def answer_save(*, response: Response, question: Question, value: str | list[str]) -> Answer | None:
    """Save (or clear, when empty) the answer to one additional question; validated against the question."""
    if any("\x00" in item for item in ([value] if isinstance(value, str) else value)):
        # PostgreSQL's jsonb cannot hold U+0000: a 500 on the public page before.
        raise ValidationError("This text holds a character that cannot be saved; remove it and try again.")
    clean = question.clean_value(value)
    if clean in ("", []):
        Answer.objects.filter(response=response, question=question).delete()
        return None
    defaults = {"value": clean}
    if question.kind == Question.Kind.FREE_TEXT:
        defaults["analysis_pending"] = True  # read again by insights' analyse_pending_comments
    answer, _ = Answer.objects.update_or_create(response=response, question=question, defaults=defaults)
    return answer
