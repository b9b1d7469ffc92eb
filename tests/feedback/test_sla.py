"""The SLA scan (`escalate-follow-ups`, every 5 minutes) reads its partial indexes on PostgreSQL, not the table.

The plans are those of the exact querysets `follow_ups_escalate` iterates, over a history where almost every
case is resolved or already escalated, with statistics gathered and sequential scans left allowed: a scan
whose filter stopped matching its index's predicate (a status added to OPEN_STATUSES but not to the index,
say) falls back to reading every case and fails here.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from feedback.models import FollowUp
from feedback.services.sla import follow_ups_escalate, follow_ups_to_escalate, follow_ups_to_remind
from surveys.models import Contact, Invitation, Response
from tests.factories import ContactFactory, InvitationFactory, ResponseFactory, SurveyFactory, TeamFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's"),
]

HISTORY = 6000
NOW = timezone.now()


def _cases(n: int, **fields) -> list[FollowUp]:
    """`n` cases of a team, each on its own answer, written in a few statements."""
    survey, team = SurveyFactory(), TeamFactory()
    contacts = Contact.objects.bulk_create(ContactFactory.build_batch(n))
    invitations = Invitation.objects.bulk_create(
        [InvitationFactory.build(contact=contact, survey=survey) for contact in contacts]
    )
    responses = Response.objects.bulk_create([ResponseFactory.build(invitation=i) for i in invitations])
    return FollowUp.objects.bulk_create([FollowUp(response=r, team=team, **fields) for r in responses])


@pytest.fixture
def history():
    """Years of cases: resolved, or open but long escalated; a few pending; then PostgreSQL's statistics."""
    past = NOW - timedelta(days=30)
    _cases(HISTORY * 9 // 10, status=FollowUp.Status.RESOLVED, due_at=past, remind_at=past, resolved_at=past)
    _cases(HISTORY // 10, status=FollowUp.Status.IN_PROGRESS, due_at=past, remind_at=past, reminded_at=past,
           escalated_at=past)  # fmt: skip
    to_remind = _cases(3, due_at=NOW + timedelta(hours=2), remind_at=NOW - timedelta(hours=1))
    to_escalate = _cases(3, status=FollowUp.Status.WAITING, due_at=NOW - timedelta(hours=1), remind_at=past,
                         reminded_at=past)  # fmt: skip
    _cases(20, due_at=NOW + timedelta(hours=20), remind_at=NOW + timedelta(hours=15))  # pending, not yet due
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {FollowUp._meta.db_table}")
        cursor.execute("SHOW enable_seqscan")
        assert cursor.fetchone() == ("on",)
    return to_remind, to_escalate


def _read_of_follow_ups(queryset) -> str:
    """The plan's line that reads the cases' table (`Index Scan using … on feedback_followup`, `Seq Scan on …`)."""
    plan = queryset.explain()
    lines = [line.strip().removeprefix("->").strip() for line in plan.splitlines()]
    reads = [
        line for line in lines if f" on {FollowUp._meta.db_table} " in line or line.endswith(FollowUp._meta.db_table)
    ]
    assert len(reads) == 1, plan
    return reads[0]


def test_the_sla_scan_reads_its_partial_indexes_not_every_case(history):
    for scan, index in (
        (follow_ups_to_remind, "follow_up_remind_due_idx"),
        (follow_ups_to_escalate, "follow_up_escalate_due_idx"),
    ):
        read, plan = _read_of_follow_ups(scan(NOW)), scan(NOW).explain()
        # An Index Scan, or a Bitmap Heap Scan fed by a Bitmap Index Scan on the index; never a Seq Scan.
        assert read.startswith(f"Index Scan using {index} on ") or (
            read.startswith("Bitmap Heap Scan on ") and f"Bitmap Index Scan on {index}" in plan
        ), plan
    to_remind, to_escalate = history
    # And they are the scan's querysets: what the plans are for finds exactly the pending cases.
    assert {f.pk for f in follow_ups_to_remind(NOW)} == {f.pk for f in to_remind}
    assert {f.pk for f in follow_ups_to_escalate(NOW)} == {f.pk for f in to_escalate}
    assert follow_ups_escalate(now=NOW) == {"reminded": 3, "escalated": 3}
