"""Writing back to Zendesk: each answer to a survey a Zendesk connector started becomes an internal note on its
ticket, when the connector asks for it (`zendesk_writeback`).

The note is recorded in the transaction that announces the answer (once per announcement: the answer, then
each change of its score or comment) and written after commit with
`PUT {zendesk_url}/api/v2/tickets/{id}.json {"ticket": {"comment": {"body": …, "public": false}}}`,
authenticated `{email}/token:{api token}` (Zendesk's API token scheme), through the outbound guard
(integrations/outbound.py). A network error, a 429 or a 5xx is retried after 1, 2, 4… minutes for a day;
a 401, 403, 404 or 422 is not (the token or the ticket is wrong: retrying would not help) and the note
fails with Zendesk's answer.
"""

import base64
import json
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from config.hand_over import hand_over_on_commit
from integrations.models import Connector, ZendeskNote
from integrations.outbound import AddressRefused, outbound_request
from surveys.models import Response

FIRST_RETRY_SECONDS = 60
RETRY_WINDOW = timedelta(hours=24)
# A note handed to a worker that has not tried it this long after is handed over again (lost task).
REENQUEUE_AFTER = timedelta(minutes=5)
SWEEP_BATCH = 200
ERROR_MAX_CHARS = 500


def _note_body(response: Response, *, created: bool, changed: tuple[str, ...]) -> str:
    scale = response.survey.scale
    lead = "Survey answer" if created else f"The customer changed their answer ({', '.join(changed) or 'answer'})"
    lines = [
        f"{lead} in Closeloop: {response.score} on a scale of {scale.low} to {scale.high} ({response.survey.name})."
    ]
    if response.comment:
        lines.append(f"Comment: {response.comment}")
    lines.append(f"{settings.SITE_URL}/follow-ups/responses/{response.pk}/")
    return "\n".join(lines)


def zendesk_note_record(*, response_id: int, created: bool, changed: tuple[str, ...] = ()) -> ZendeskNote | None:
    """Inside the answer's announcement: record the note for its ticket when a write-back connector started it."""
    response = (
        Response.objects.select_related("survey", "invitation__event").filter(pk=response_id, held_reason="").first()
    )
    event = response.invitation.event if response is not None else None
    if event is None or not event.source.startswith("connector:"):
        return None
    if not created and not set(changed) & {"score", "comment"}:
        return None
    connector_id = event.source.removeprefix("connector:")
    connector = Connector.objects.filter(
        pk=int(connector_id) if connector_id.isdigit() else 0,
        kind=Connector.Kind.ZENDESK,
        zendesk_writeback=True,
        is_active=True,
    ).first()
    ticket_id = str(event.properties.get("ticket_id", ""))
    if connector is None or not ticket_id.isdigit():
        return None
    now = timezone.now()
    note = ZendeskNote.objects.create(
        connector=connector,
        response=response,
        ticket_id=ticket_id,
        body=_note_body(response, created=created, changed=tuple(changed)),
        next_attempt_at=now,
        enqueued_at=now,
    )
    _enqueue([note.pk])
    return note


def _enqueue(note_ids: list[int]) -> None:
    """Hand the notes to workers once the transaction commits.

    With the broker down the answer still stands (robust: the commit's later hooks still run, and the
    customer's page does not fail) and the notes are marked not handed over, so the beat job hands them
    over at its first run after the broker is back rather than `REENQUEUE_AFTER` later.
    """
    from integrations.tasks import write_zendesk_note  # the task module imports this one

    def not_handed_over(ids: list[int]) -> None:
        ZendeskNote.objects.filter(pk__in=ids, status=ZendeskNote.Status.PENDING).update(enqueued_at=None)

    hand_over_on_commit(write_zendesk_note, note_ids, what="Zendesk notes", refused=not_handed_over)


def _finish(note: ZendeskNote, **fields) -> ZendeskNote:
    ZendeskNote.objects.filter(pk=note.pk).update(**fields)
    note.refresh_from_db()
    return note


def _retry_or_fail(note: ZendeskNote, error: str) -> ZendeskNote:
    next_attempt_at = timezone.now() + timedelta(seconds=FIRST_RETRY_SECONDS * 2 ** (note.attempts - 1))
    if next_attempt_at > note.created_at + RETRY_WINDOW:
        return _finish(note, status=ZendeskNote.Status.FAILED, error=error[:ERROR_MAX_CHARS])
    return _finish(note, error=error[:ERROR_MAX_CHARS], next_attempt_at=next_attempt_at, enqueued_at=None)


def zendesk_note_write(*, note_id: int) -> ZendeskNote | None:
    """One attempt at a due note; None when it is not due (written, failed, or another worker has it)."""
    now = timezone.now()
    with transaction.atomic():
        note = (
            ZendeskNote.objects.select_for_update(skip_locked=True)
            .select_related("connector")
            .filter(pk=note_id, status=ZendeskNote.Status.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if note is None:
            return None
        # Pushed past any other worker's reach for the time of this attempt (the outbound deadline is far below).
        ZendeskNote.objects.filter(pk=note.pk).update(
            attempts=F("attempts") + 1, next_attempt_at=now + REENQUEUE_AFTER, enqueued_at=now
        )
    note.refresh_from_db()
    connector = note.connector
    url = f"{connector.zendesk_url.rstrip('/')}/api/v2/tickets/{note.ticket_id}.json"
    body = json.dumps({"ticket": {"comment": {"body": note.body, "public": False}}}).encode()
    credentials = base64.b64encode(f"{connector.zendesk_email}/token:{connector.zendesk_api_token}".encode()).decode()
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Basic {credentials}",
        "User-Agent": "Closeloop-Zendesk/1.0",
    }
    try:
        answer = outbound_request("PUT", url, body, headers)
    except AddressRefused as exc:
        return _finish(note, status=ZendeskNote.Status.FAILED, error=str(exc)[:ERROR_MAX_CHARS])
    except requests.RequestException as exc:
        return _retry_or_fail(note, f"{type(exc).__name__}: {exc}")
    if 200 <= answer.status_code < 300:
        return _finish(note, status=ZendeskNote.Status.WRITTEN, error="", written_at=timezone.now())
    error = f"Zendesk answered HTTP {answer.status_code}: {answer.body[:300].decode(errors='replace')}"
    if answer.status_code == 429 or answer.status_code >= 500:
        return _retry_or_fail(note, error)
    return _finish(note, status=ZendeskNote.Status.FAILED, error=error[:ERROR_MAX_CHARS])


def zendesk_notes_sweep(*, now=None) -> dict[str, int]:
    """Beat job: notes whose retry came due, and notes whose task was lost."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            ZendeskNote.objects.select_for_update(skip_locked=True)
            .filter(status=ZendeskNote.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - REENQUEUE_AFTER))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        ZendeskNote.objects.filter(pk__in=due).update(enqueued_at=now)
        _enqueue(due)
    return {"enqueued": len(due)}


def zendesk_notes_summary(connector: Connector) -> dict:
    """How the connector's notes fared: how many written, pending and failed, and the latest failure's reason."""
    counts = dict(
        ZendeskNote.objects.filter(connector=connector).values_list("status").annotate(n=Count("pk")).order_by()
    )
    last_failed = (
        ZendeskNote.objects.filter(connector=connector, status=ZendeskNote.Status.FAILED).order_by("-pk").first()
    )
    return {
        "written": counts.get(ZendeskNote.Status.WRITTEN, 0),
        "pending": counts.get(ZendeskNote.Status.PENDING, 0),
        "failed": counts.get(ZendeskNote.Status.FAILED, 0),
        "last_error": last_failed.error if last_failed else "",
        "last_failed_ticket": last_failed.ticket_id if last_failed else "",
    }


@transaction.atomic
def zendesk_notes_retry_failed(*, connector: Connector) -> int:
    """Try the connector's failed notes again (after a token or address was fixed), each with a fresh day of
    retries; returns how many."""
    now = timezone.now()
    failed = list(
        ZendeskNote.objects.select_for_update()
        .filter(connector=connector, status=ZendeskNote.Status.FAILED)
        .values_list("pk", flat=True)
    )
    ZendeskNote.objects.filter(pk__in=failed).update(
        status=ZendeskNote.Status.PENDING, attempts=0, error="", next_attempt_at=now, enqueued_at=now, created_at=now
    )
    _enqueue(failed)
    return len(failed)


def zendesk_credentials_check(*, connector: Connector) -> tuple[bool, str]:
    """Whether the connector's Zendesk address, agent and token work: `GET /api/v2/users/me.json` with them.

    Zendesk answers that call 200 even to bad credentials, as its anonymous user (no id): that is a refusal.
    """
    if not (connector.zendesk_url and connector.zendesk_email and connector.zendesk_api_token):
        return False, _("Give the Zendesk address, the agent's email and an API token first.")
    url = f"{connector.zendesk_url.rstrip('/')}/api/v2/users/me.json"
    credentials = base64.b64encode(f"{connector.zendesk_email}/token:{connector.zendesk_api_token}".encode()).decode()
    headers = {"Authorization": f"Basic {credentials}", "User-Agent": "Closeloop-Zendesk/1.0"}
    try:
        answer = outbound_request("GET", url, b"", headers)
    except AddressRefused as exc:
        return False, str(exc)
    except requests.RequestException as exc:
        return False, _("Zendesk could not be reached: %(error)s.") % {"error": type(exc).__name__}
    try:
        user = json.loads(answer.body).get("user") or {}
    except (ValueError, AttributeError):
        user = {}
    if answer.status_code != 200 or not user.get("id"):
        return False, _("Zendesk did not accept the agent's email and token (HTTP %(status)s).") % {
            "status": answer.status_code
        }
    if user.get("role") not in ("agent", "admin"):
        return False, _("The token is %(email)s's, who is not an agent: notes need an agent.") % {
            "email": user.get("email")
        }
    return True, _("Zendesk accepts the token: notes will be written as %(name)s.") % {
        "name": user.get("name") or user.get("email")
    }
