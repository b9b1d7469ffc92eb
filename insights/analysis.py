"""Reading comments and free-text answers in the background: the analyser of this process, the
beat job's batch of pending comments, the backfill of `manage.py analyse_comments`, and the
status the pages show ("theme discovery off: install ...").

Owns nothing in the database: results are stored by `surveys.services.analysis` (which owns the
fields and announces changes). The analyser (taxonomy + embedding model) is built once per process
and rebuilt when the taxonomy changes. Must not block a request: the web process only flags
comments, this module's callers run in the beat job or a worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime, time

from django.conf import settings
from django.utils import timezone

from insights.taxonomy import taxonomy_specs, taxonomy_version
from insights.text import Analyser, EmbedderUnavailable, load_embedder
from insights.theme_rollups import rollup_count_themes
from surveys.models import Response
from surveys.services.analysis import (
    answers_pending_analysis,
    answers_record_analysis,
    response_record_analysis,
    responses_pending_analysis,
)

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_state: dict = {"version": None, "analyser": None, "embedder_error": None, "embedder": None, "loaded": False}


def reset() -> None:
    """Forget the loaded model and analyser (settings changed: tests, a reconfigured process)."""
    with _lock:
        _state.update(version=None, analyser=None, embedder_error=None, embedder=None, loaded=False)


def embedder():
    """The configured embedding model (INSIGHTS_EMBEDDER), or None when off or not installed."""
    with _lock:
        if not _state["loaded"]:
            try:
                _state["embedder"] = load_embedder(settings.INSIGHTS_EMBEDDER)
            except EmbedderUnavailable as exc:
                _state["embedder_error"] = str(exc)
                logger.warning("%s", exc)
            _state["loaded"] = True
        return _state["embedder"]


def status() -> dict:
    """What the pages say about the reading: whether discovery is on, and why not."""
    model = embedder()
    if model is not None:
        return {"discovery": True, "embedder": model.name, "message": ""}
    message = _state["embedder_error"] or "theme discovery off: INSIGHTS_EMBEDDER=none"
    return {"discovery": False, "embedder": "", "message": message}


def analyser() -> Analyser:
    version = taxonomy_version()
    model = embedder()
    with _lock:
        if _state["analyser"] is None or _state["version"] != version:
            _state["analyser"] = Analyser(taxonomy_specs(), model)
            _state["version"] = version
        return _state["analyser"]


def _locale(response: Response) -> str:
    return response.invitation.locale if response.invitation_id else "en"


def responses_analyse(responses: list[Response]) -> int:
    """Read each response's comment and store the result; returns how many results changed."""
    engine = analyser()
    texts = [r for r in responses if r.comment.strip()]
    results = dict(
        zip((r.pk for r in texts), engine.analyse_many([(r.comment, _locale(r)) for r in texts]), strict=True)
    )
    changed = 0
    for response in responses:
        if response_record_analysis(response_id=response.pk, comment=response.comment, result=results.get(response.pk)):
            changed += 1
            rollup_count_themes(response_id=response.pk)
    return changed


def comments_analyse_pending(*, limit: int | None = None) -> dict[str, int]:
    """Beat job: read the comments and free-text answers flagged since the last run (a batch of each)."""
    limit = limit or settings.INSIGHTS_BATCH_SIZE
    responses = responses_pending_analysis(limit=limit)
    changed = responses_analyse(responses) if responses else 0
    answers = answers_pending_analysis(limit=limit)
    stored = 0
    if answers:
        engine = analyser()
        texts = [a.value if isinstance(a.value, str) else " ".join(map(str, a.value)) for a in answers]
        results = engine.analyse_many([(t, a.response.invitation.locale) for t, a in zip(texts, answers, strict=True)])
        stored = answers_record_analysis(results=[(a.pk, a.value, r) for a, r in zip(answers, results, strict=True)])
    return {"responses": len(responses), "changed": changed, "answers": stored}


def backfill_queryset(since: date | None = None):
    """Responses with a comment not read since it last changed, oldest first (what a backfill reads)."""
    queryset = Response.objects.exclude(comment="").filter(analysed_at__isnull=True) | Response.objects.filter(
        analysis_pending=True
    )
    if since is not None:
        start = datetime.combine(since, time.min, tzinfo=timezone.get_current_timezone())
        queryset = queryset.filter(confirmed_at__gte=start)
    return queryset.order_by("pk")


def comments_backfill(
    *, since: date | None = None, batch: int = 200, progress: Callable[[int], None] | None = None
) -> Iterator[int]:
    """Read every unread comment (from `since`), in batches by id; resumable since read ones are skipped.

    Yields the number read after each batch.
    """
    last_pk = 0
    queryset = backfill_queryset(since).select_related("invitation")
    while True:
        chunk = list(queryset.filter(pk__gt=last_pk)[:batch])
        if not chunk:
            return
        responses_analyse(chunk)
        last_pk = chunk[-1].pk
        if progress:
            progress(len(chunk))
        yield len(chunk)
