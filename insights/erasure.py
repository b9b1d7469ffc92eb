"""A person's erasure, for what insights keeps of them: their answers' counts and what was read in their comments.

Runs inside the erasure's transaction (`surveys.signals.contact_erasing`), before surveys changes the answers.
Every rollup must still equal a recomputation afterwards: an answer kept as an anonymous score stays in its
totals but leaves its breakdown buckets (the properties it was broken down by are erased) and the theme
rollups (its comment goes); a hard erasure takes the answer out of everything, its invitations out of the
funnel (the days they were created on are recounted without them), and its case out of the loop rollups
(by the `pre_delete` receiver, as for any deleted case).
"""

from collections import Counter

from insights.models import ThemeCandidate
from insights.rollups import rollup_forget_segments, rollup_funnel_forget, rollup_uncount_response
from insights.theme_rollups import rollup_uncount_themes
from surveys.services.privacy import ErasureSubject


def rollups_erase(*, subject: ErasureSubject, rows: Counter) -> None:
    for response_id in subject.response_ids:
        rollup_uncount_themes(response_id=response_id)
        if subject.hard:
            rollup_uncount_response(response_id=response_id)
        else:
            rollup_forget_segments(response_id=response_id)
    if subject.hard:
        rollup_funnel_forget(invitation_ids=list(subject.invitation_ids))
    rows["theme discovery examples"] += theme_candidates_forget(response_ids=set(subject.response_ids))


def theme_candidates_forget(*, response_ids: set[int]) -> int:
    """Take the person's comments out of the examples shown with discovered themes; returns how many went."""
    if not response_ids:
        return 0
    removed = 0
    # Few candidates exist (one nightly discovery's groups), and their ids are in JSON lists: read them all.
    for candidate in ThemeCandidate.objects.select_for_update().order_by("pk"):
        kept = [
            (response_id, comment)
            for response_id, comment in zip(candidate.typical_response_ids, candidate.typical_comments, strict=False)
            if response_id not in response_ids
        ]
        if len(kept) == len(candidate.typical_response_ids):
            continue
        removed += len(candidate.typical_response_ids) - len(kept)
        candidate.typical_response_ids = [response_id for response_id, _ in kept]
        candidate.typical_comments = [comment for _, comment in kept]
        candidate.save(update_fields=["typical_response_ids", "typical_comments"])
    return removed
