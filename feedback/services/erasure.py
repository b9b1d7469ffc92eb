"""A person's erasure and export, for what the loop keeps of them: their cases' threads and notes, the messages
of those threads and the notices agents got about them, the customer's emails into them.

Runs inside the erasure's transaction (`surveys.signals.contact_erasing`), before surveys touches the answers.
An anonymised case stays, with its team, assignee, status, outcome and times (the loop rollups count those),
and every entry keeps its kind, author and time, but no text: notes, replies and the customer's words go.
A hard erasure deletes the cases with their answers (the cascade from the contact); only the messages and
emails, which the cascade does not reach, are erased here.
"""

from collections import Counter

from feedback.models import FollowUp, FollowUpEntry
from feedback.services.conversation import follow_up_thread_key
from notifications.services.erasure import inbound_erase, messages_erase, provider_copies_delete
from surveys.services.privacy import ErasureSubject


def follow_ups_erase(*, subject: ErasureSubject, rows: Counter) -> None:
    """Adds to `rows` how many rows of each kind were erased."""
    cases = FollowUp.objects.filter(response_id__in=subject.response_ids)
    case_ids = list(cases.values_list("pk", flat=True))
    if not case_ids:
        return
    entries = FollowUpEntry.objects.filter(follow_up_id__in=case_ids)
    thread_messages = entries.exclude(message=None).values_list("message_id", flat=True)
    # Agents' notices name the customer and quote the comment; their subject names the case
    # (templates/feedback/emails/agent_notice_subject.txt).
    erased, sids = messages_erase(message_ids=list(thread_messages), subjects=[f": case #{pk} (" for pk in case_ids])
    rows["messages"] += erased
    provider_copies_delete(sids=sids)
    received, received_sids = inbound_erase(threads=[follow_up_thread_key(pk) for pk in case_ids])
    rows["inbound messages"] += received
    provider_copies_delete(sids=received_sids)
    if subject.hard:
        # The cases and their threads go with the answers (the cascade from the contact).
        rows["cases"] += len(case_ids)
        rows["case notes and replies"] += entries.count()
        return
    # A line's values go with its words (a resolution note, a customer's reason).
    rows["case notes and replies"] += entries.exclude(body="").update(body="", wording="", wording_values={})
    rows["cases kept without text"] += cases.update(resolution_note="")


def follow_ups_export(*, response_ids: list[int]) -> dict:
    """The person's cases: status, outcome, dates and the thread (what the customer and agents wrote)."""
    cases = (
        FollowUp.objects.filter(response_id__in=response_ids)
        .select_related("team", "assignee", "root_cause")
        .prefetch_related("entries__author")
        .order_by("pk")
    )
    return {
        "cases": [
            {
                "id": case.pk,
                "response": case.response_id,
                "team": case.team.name,
                "status": case.status,
                "outcome": case.outcome or None,
                "root_cause": case.root_cause.name if case.root_cause else None,
                "resolution_note": case.resolution_note,
                "created_at": case.created_at.isoformat(),
                "resolved_at": case.resolved_at.isoformat() if case.resolved_at else None,
                "thread": [
                    {
                        "kind": entry.kind,
                        "channel": entry.channel,
                        "by": "customer" if entry.kind == FollowUpEntry.Kind.CUSTOMER_REPLY else "staff",
                        "body": entry.body,
                        "created_at": entry.created_at.isoformat(),
                    }
                    for entry in case.entries.all()
                ],
            }
            for case in cases
        ]
    }
