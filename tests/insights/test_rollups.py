import random
import threading
from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback.models import FollowUp
from feedback.services.cases import follow_up_add_note
from insights.models import FollowUpTally, FunnelRollup, LoopRollup, ResponseTally, ScoreRollup
from insights.rollups import (
    FUNNEL_STAGES,
    full_follow_up_facts,
    full_loop_rollup_rows,
    full_score_rollup_rows,
    rollup_count_follow_up,
    rollup_count_new_responses,
    rollup_count_response,
    rollup_rebuild,
    rollup_refresh_funnel,
    rollup_refresh_recent_funnel,
    stored_follow_up_facts,
    stored_loop_rollup_rows,
    stored_score_rollup_rows,
)
from notifications.models import Message
from surveys.models import Invitation, Response
from surveys.services.responses import response_submit
from tests.factories import (
    ContactFactory,
    EventFactory,
    FollowUpFactory,
    InvitationFactory,
    MessageFactory,
    ResponseFactory,
    RootCauseFactory,
    RoutingRuleFactory,
    SurveyFactory,
    TeamFactory,
    UserFactory,
)

NOW = "2026-11-10 12:00:00+00:00"
BREAKDOWN = ["event:store", "contact:plan"]


@pytest.fixture(autouse=True)
def breakdown_properties(settings):
    settings.DASHBOARD_BREAKDOWN_PROPERTIES = BREAKDOWN


def _submit(invitation, score, capture):
    with capture(execute=True):
        return response_submit(invitation=invitation, score=score)


def _buckets(**filters):
    return sorted(ScoreRollup.objects.filter(**filters).values_list("dimension", "value", "score", "count"))


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_rollup_counts_a_new_answer_in_totals_and_each_breakdown(django_capture_on_commit_callbacks):
    event = EventFactory(type="delivery", properties={"store": "Lyon"}, contact=ContactFactory(properties={}))
    invitation = InvitationFactory(event=event, contact=event.contact, channel="sms")
    _submit(invitation, 9, django_capture_on_commit_callbacks)
    assert _buckets(day=date(2026, 11, 10), channel="sms", event_type="delivery") == [
        ("", "", 9, 1),
        ("contact:plan", "", 9, 1),
        ("event:store", "Lyon", 9, 1),
    ]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_rollup_moves_a_changed_score_to_its_new_bucket(django_capture_on_commit_callbacks):
    invitation = InvitationFactory()
    _submit(invitation, 3, django_capture_on_commit_callbacks)
    _submit(invitation, 10, django_capture_on_commit_callbacks)
    assert _buckets(dimension="") == [("", "", 3, 0), ("", "", 10, 1)]
    assert ResponseTally.objects.get().score == 10


@pytest.mark.django_db
def test_rollup_counting_twice_changes_nothing():
    response = ResponseFactory(score=7)
    rollup_count_response(response_id=response.pk)
    rollup_count_response(response_id=response.pk)
    assert _buckets(dimension="") == [("", "", 7, 1)]


@pytest.mark.django_db
def test_rollup_of_a_deleted_response_is_a_no_op():
    rollup_count_response(response_id=424242)
    assert ScoreRollup.objects.count() == 0


def _random_workload(rng: random.Random, capture) -> None:
    """Answers across surveys, channels, event types and properties; changed scores; late and
    duplicated deliveries of the counting job (as a redelivering broker would cause)."""
    surveys = [SurveyFactory(kind="nps"), SurveyFactory(kind="csat")]
    invitations = []
    for i in range(60):
        contact = ContactFactory(properties={"plan": rng.choice(["free", "pro", ""])} if rng.random() < 0.8 else {})
        event = EventFactory(
            contact=contact, type=rng.choice(["purchase", "ticket"]), properties={"store": f"s{i % 3}"}
        )
        invitations.append(
            InvitationFactory(
                contact=contact,
                event=event if rng.random() < 0.9 else None,
                survey=rng.choice(surveys),
                channel=rng.choice(["email", "sms"]),
            )
        )
    for _ in range(150):
        invitation = rng.choice(invitations)
        score = rng.choice(list(invitation.survey.scale.scores))
        with time_machine.travel(f"2026-11-{rng.randint(1, 9):02d} 10:00:00+00:00", tick=False):
            response = _submit(invitation, score, capture)
        if rng.random() < 0.2:
            rollup_count_response(response_id=response.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollup_incremental_equals_full_recomputation_on_random_data(seed, django_capture_on_commit_callbacks):
    _random_workload(random.Random(seed), django_capture_on_commit_callbacks)
    incremental = stored_score_rollup_rows()
    assert incremental == full_score_rollup_rows()
    assert sum(n for key, n in incremental.items() if key[4] == "") == Response.objects.count()
    rollup_rebuild()
    assert stored_score_rollup_rows() == incremental


@pytest.mark.django_db
def test_rebuild_rollups_command_recounts_from_scratch():
    ResponseFactory(score=9)
    ScoreRollup.objects.create(
        day=date(2020, 1, 1), survey=SurveyFactory(), kind="nps", channel="email", score=1, count=5
    )
    call_command("rebuild_rollups", stdout=(out := __import__("io").StringIO()))
    assert out.getvalue() == "Rebuilt 3 score buckets, 1 funnel rows and 0 loop buckets.\n"
    assert stored_score_rollup_rows() == full_score_rollup_rows()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_funnel_refresh_counts_each_stage():
    survey = SurveyFactory()
    sent = MessageFactory(status=Message.Status.DELIVERED, sent_at="2026-11-10T12:00:00Z")
    InvitationFactory(survey=survey, message=sent, event=None)
    InvitationFactory(survey=survey, event=None, message=MessageFactory(status=Message.Status.BOUNCED, sent_at=NOW))
    InvitationFactory(survey=survey, event=None, status=Invitation.Status.CANCELLED, cancel_reason="throttled")
    InvitationFactory(survey=survey, event=None, status=Invitation.Status.CANCELLED, cancel_reason="opted_out")
    ResponseFactory(invitation=Invitation.objects.get(message=sent), score=10)
    assert rollup_refresh_funnel() == 1
    row = FunnelRollup.objects.get()
    assert (row.day, row.channel, row.event_type) == (date(2026, 11, 10), "email", "")
    stages = (row.scheduled, row.sent, row.delivered, row.opened, row.responded, row.bounced)
    assert stages + (row.opted_out, row.throttled) == (4, 2, 1, 1, 1, 1, 1, 1)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_funnel_counts_a_web_widget_card_shown_as_sent_and_delivered():
    survey = SurveyFactory()
    answered = InvitationFactory(survey=survey, event=None, channel="web")
    InvitationFactory(survey=survey, event=None, channel="web")
    ResponseFactory(invitation=answered, score=9)

    rollup_refresh_funnel()

    row = FunnelRollup.objects.get()
    assert row.channel == "web"
    assert (row.scheduled, row.sent, row.delivered, row.opened, row.responded, row.bounced) == (2, 2, 2, 0, 1, 0)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_funnel_counts_an_email_as_opened_by_sendgrids_open_event_or_an_answer():
    from notifications.services.provider_events import sendgrid_events_record
    from notifications.transports.sendgrid import MESSAGE_ID_ARG

    survey = SurveyFactory()
    opened, answered, unopened, texted = (
        MessageFactory(status=Message.Status.DELIVERED, sent_at=NOW, channel=channel)
        for channel in ("email", "email", "email", "sms")
    )
    for message in (opened, answered, unopened):
        InvitationFactory(survey=survey, message=message, event=None)
    ResponseFactory(invitation=Invitation.objects.get(message=answered), score=9)
    InvitationFactory(survey=survey, message=texted, event=None, channel="sms")
    ResponseFactory(invitation=Invitation.objects.get(message=texted), score=9)
    events = [
        {"sg_event_id": f"open-{n}", "event": "open", MESSAGE_ID_ARG: str(message.public_id)}
        for n, message in enumerate([opened, opened, texted])  # opened twice; an SMS has no pixel
    ]
    sendgrid_events_record(events=events)
    rollup_refresh_funnel()
    assert sorted(FunnelRollup.objects.values_list("channel", "opened", "responded")) == [
        ("email", 2, 1),
        ("sms", 0, 1),
    ]


@pytest.mark.django_db
def test_funnel_refresh_since_keeps_older_days():
    survey = SurveyFactory()
    with time_machine.travel("2026-10-01 12:00:00+00:00", tick=False):
        InvitationFactory(survey=survey)
    rollup_refresh_funnel()
    with time_machine.travel(NOW, tick=False):
        InvitationFactory(survey=survey, channel="sms")
        rollup_refresh_funnel(since=date(2026, 11, 1))
    assert sorted(FunnelRollup.objects.values_list("day", "channel", "scheduled")) == [
        (date(2026, 10, 1), "email", 1),
        (date(2026, 11, 10), "sms", 1),
    ]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's")
@time_machine.travel(NOW, tick=False)
def test_recent_funnel_refresh_reads_the_open_window_by_its_index_not_the_history():
    """Over a history of 6,000 invitations older than any open link and 20 recent ones, with statistics gathered
    and sequential scans allowed, each statement the beat job runs on invitations is planned on
    `invitation_created_idx`: its cost follows the recent traffic, not the years kept."""
    survey = SurveyFactory()
    contacts = [ContactFactory() for _ in range(20)]
    old = Invitation.objects.bulk_create(
        [InvitationFactory.build(survey=survey, contact=contacts[n % 20], event=None) for n in range(6000)]
    )
    Invitation.objects.filter(pk__in=[i.pk for i in old]).update(created_at="2025-01-15T12:00:00Z")
    for contact in contacts:
        InvitationFactory(survey=survey, contact=contact, event=None)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Invitation._meta.db_table}")
        with CaptureQueriesContext(connection) as queries:
            assert rollup_refresh_recent_funnel() == 1
        reads = [q["sql"] for q in queries if f'FROM "{Invitation._meta.db_table}"' in q["sql"]]
        assert len(reads) == 1, reads
        cursor.execute(f"EXPLAIN {reads[0]}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "invitation_created_idx" in plan, plan
    assert f"Seq Scan on {Invitation._meta.db_table}" not in plan, plan
    assert FunnelRollup.objects.get().scheduled == 20


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_rollup_concurrent_score_changes_add_up_on_postgresql():
    """Eight threads change and count the same answers at once; the buckets still match a recount."""
    assert connection.vendor == "postgresql"
    responses = [ResponseFactory(score=5) for _ in range(10)]
    errors = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(30):
                response = rng.choice(responses)
                Response.objects.filter(pk=response.pk).update(score=rng.randint(0, 10))
                rollup_count_response(response_id=response.pk)
        except Exception as exc:  # noqa: BLE001  (collected and asserted below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert stored_score_rollup_rows() == full_score_rollup_rows()


@pytest.mark.django_db
def test_demo_workspace_history_is_counted_in_rollups(django_capture_on_commit_callbacks):
    from workspace.demo import demo_load

    # What runs once the demo's transaction commits (any case's recount) must leave the rebuilt rollups as they are.
    with django_capture_on_commit_callbacks(execute=True):
        demo_load(days=10)
    funnel = set(FunnelRollup.objects.values_list("day", "survey_id", "channel", "event_type", *FUNNEL_STAGES))
    rollup_refresh_funnel()

    assert stored_score_rollup_rows() == full_score_rollup_rows()
    assert _loop_consistent()
    assert FollowUp.objects.exists()
    assert set(FunnelRollup.objects.values_list("day", "survey_id", "channel", "event_type", *FUNNEL_STAGES)) == funnel
    assert sum(FunnelRollup.objects.values_list("scheduled", flat=True)) == Invitation.objects.count()


@pytest.mark.django_db
def test_rollup_forgets_a_response_a_link_scanner_created(django_capture_on_commit_callbacks):
    from surveys.services.responses import response_submit_from_page

    invitation = InvitationFactory()
    kept = InvitationFactory(survey=invitation.survey)
    _submit(kept, 9, django_capture_on_commit_callbacks)
    for score in (0, 5, 10):  # three scores within seconds: a scanner, not a person
        with django_capture_on_commit_callbacks(execute=True):
            response_submit_from_page(invitation=invitation, score=score)
    assert not Response.objects.filter(invitation=invitation).exists()
    assert stored_score_rollup_rows() == full_score_rollup_rows()
    assert ResponseTally.objects.count() == 1


# --- The loop ----------------------------------------------------------------------------------------


def _loop_consistent() -> bool:
    return stored_loop_rollup_rows() == full_loop_rollup_rows() and stored_follow_up_facts() == dict(
        full_follow_up_facts()
    )


def _random_loop_workload(rng: random.Random, capture) -> None:
    """Unhappy answers routed to two teams on different calendars, then worked the way agents work
    them (notes, claims, resolutions, reopenings, "did we fix it?" answers) while customers change
    their scores, over several days; some counting jobs are delivered twice."""
    from feedback.services.cases import follow_up_add_note, follow_up_assign
    from feedback.services.resolution import follow_up_reopen, follow_up_resolve

    teams = [TeamFactory(name="Lyon"), TeamFactory(name="Montreal", time_zone="America/Montreal", sla_hours=4)]
    agents = [UserFactory(team=team) for team in teams for _ in range(2)]
    causes = [RootCauseFactory(name="Late"), RootCauseFactory(name="Weather", outside_agent_control=True)]
    surveys = [SurveyFactory(kind="nps"), SurveyFactory(kind="csat")]
    for survey, team in zip(surveys, teams, strict=True):
        RoutingRuleFactory(survey=survey, team=team, assignment="round_robin" if team == teams[0] else "queue")
    invitations = [
        InvitationFactory(
            survey=rng.choice(surveys),
            channel=rng.choice(["email", "sms"]),
            event=EventFactory(type=rng.choice(["purchase", "ticket"])),
        )
        for _ in range(30)
    ]
    for step in range(200):
        with time_machine.travel(f"2026-11-{1 + step // 25:02d} {8 + step % 10}:{step % 60:02d}:00+00:00", tick=False):
            invitation = rng.choice(invitations)
            follow_up = FollowUp.objects.filter(response__invitation=invitation).first()
            action = rng.random()
            if follow_up is None or action < 0.3:
                _submit(invitation, rng.choice(list(invitation.survey.scale.scores)), capture)
                continue
            agent = rng.choice([a for a in agents if a.team_id == follow_up.team_id])
            # Each service announces its change after commit; the rollups count it then.
            with capture(execute=True):
                if action < 0.45:
                    follow_up_add_note(follow_up=follow_up, author=agent, body="Called the customer")
                elif action < 0.55:
                    follow_up_assign(follow_up=follow_up, actor=agent, assignee=rng.choice([agent, None]))
                elif action < 0.8 and follow_up.status != FollowUp.Status.RESOLVED:
                    outcome = rng.choice(["recovered", "not_recovered", "unreachable"])
                    follow_up_resolve(follow_up=follow_up, author=agent, root_cause=rng.choice(causes), outcome=outcome)
                elif action < 0.9 and follow_up.status == FollowUp.Status.RESOLVED:
                    follow_up_reopen(follow_up=follow_up, actor=agent)
                else:
                    # A "did we fix it?" answer, as the answer's service records and announces it.
                    follow_up.fix_confirmed = rng.choice([True, False, None])
                    follow_up.save(update_fields=["fix_confirmed", "updated_at"])
                    rollup_count_follow_up(follow_up_id=follow_up.pk)
            if rng.random() < 0.1:
                rollup_count_follow_up(follow_up_id=follow_up.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_loop_rollup_incremental_equals_full_recomputation_on_random_data(seed, django_capture_on_commit_callbacks):
    _random_loop_workload(random.Random(seed), django_capture_on_commit_callbacks)
    incremental = stored_loop_rollup_rows()
    totals = [sum(counts[i] for counts in incremental.values()) for i in range(6)]
    assert totals[0] == FollowUp.objects.count()
    assert all(totals), "the workload should open, contact, resolve, recover and keep unhappy some cases"
    assert _loop_consistent()
    rollup_rebuild()
    assert stored_loop_rollup_rows() == incremental
    assert _loop_consistent()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_loop_rollup_moves_a_case_as_it_is_worked(django_capture_on_commit_callbacks):
    from feedback.services.cases import follow_up_assign
    from feedback.services.resolution import follow_up_resolve

    agent = UserFactory()
    follow_up = FollowUpFactory(response=ResponseFactory(score=3), team=agent.team, due_at=NOW)
    counters = ("follow_ups", "contacted", "resolved", "within_sla", "recovered", "unhappy")
    assert list(LoopRollup.objects.values_list("assignee_id", *counters)) == [(0, 1, 0, 0, 0, 0, 1)]
    with django_capture_on_commit_callbacks(execute=True):
        follow_up_assign(follow_up=follow_up, actor=agent, assignee=agent)
        follow_up_add_note(follow_up=follow_up, author=agent, body="Called")
        follow_up_resolve(follow_up=follow_up, author=agent, root_cause=RootCauseFactory(), outcome="recovered")
    rows = LoopRollup.objects.exclude(follow_ups=0).values_list("assignee_id", *counters)
    assert list(rows) == [(agent.pk, 1, 1, 1, 1, 1, 1)]
    tally = FollowUpTally.objects.get()
    assert (tally.hours_to_first_contact, tally.hours_to_resolve) == (0.0, 0.0)


@pytest.mark.django_db
def test_loop_rollup_forgets_a_deleted_case():
    follow_up = FollowUpFactory(response=ResponseFactory(score=3))
    follow_up.response.delete()
    assert stored_loop_rollup_rows() == {}
    assert FollowUpTally.objects.count() == 0


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_loop_rollup_follows_a_changed_answer(django_capture_on_commit_callbacks):
    invitation = InvitationFactory()
    RoutingRuleFactory(assignment="queue")
    _submit(invitation, 2, django_capture_on_commit_callbacks)
    follow_up = FollowUp.objects.get()
    follow_up.status = FollowUp.Status.IN_PROGRESS  # worked: the case stays open when the score changes
    follow_up.save()
    _submit(invitation, 8, django_capture_on_commit_callbacks)
    assert list(LoopRollup.objects.values_list("follow_ups", "unhappy")) == [(1, 0)]
    assert _loop_consistent()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_loop_rollup_concurrent_work_on_the_same_cases_adds_up_on_postgresql():
    """Eight threads note, claim, resolve and reopen the same cases and change their scores at once;
    the loop buckets still match a recount."""
    from feedback.services.cases import follow_up_add_note, follow_up_assign
    from feedback.services.resolution import follow_up_reopen, follow_up_resolve

    assert connection.vendor == "postgresql"
    team = TeamFactory()
    agents = [UserFactory(team=team) for _ in range(3)]
    cause = RootCauseFactory()
    cases = [FollowUpFactory(response=ResponseFactory(score=2), team=team) for _ in range(6)]
    errors = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(25):
                follow_up = FollowUp.objects.get(pk=rng.choice(cases).pk)
                agent = rng.choice(agents)
                action = rng.random()
                try:
                    if action < 0.3:
                        follow_up_add_note(follow_up=follow_up, author=agent, body="Called")
                    elif action < 0.5:
                        follow_up_assign(follow_up=follow_up, actor=agent, assignee=agent)
                    elif action < 0.7:
                        follow_up_resolve(follow_up=follow_up, author=agent, root_cause=cause, outcome="recovered")
                    elif action < 0.85:
                        follow_up_reopen(follow_up=follow_up, actor=agent)
                    else:
                        Response.objects.filter(pk=follow_up.response_id).update(score=rng.randint(0, 10))
                        rollup_count_response(response_id=follow_up.response_id)
                except ValidationError:
                    pass  # another thread resolved or reopened it first: the service refuses, as for a person
        except Exception as exc:  # noqa: BLE001  (collected and asserted below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _loop_consistent()
    assert sum(counts[0] for counts in stored_loop_rollup_rows().values()) == 6


@pytest.mark.django_db
def test_a_note_on_a_new_case_recounts_it_once(django_capture_on_commit_callbacks):
    """A note moves a new case to in progress and is its first contact: one change, one recount (the
    post_save receivers on the case and on its timeline entry recounted it twice)."""
    follow_up = FollowUpFactory(response=ResponseFactory(score=2))
    agent = UserFactory(team=follow_up.team)

    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        follow_up_add_note(follow_up=follow_up, author=agent, body="Called the customer")

    # Each recount looks up the case's first contact once.
    recounts = [query["sql"] for query in queries if 'MIN("feedback_followupentry"."created_at")' in query["sql"]]
    assert len(recounts) == 1
    tally = FollowUpTally.objects.get(follow_up=follow_up)
    assert (tally.contacted, LoopRollup.objects.get().contacted) == (True, 1)


@pytest.mark.django_db
def test_rollup_count_new_responses_counts_many_at_once_as_one_by_one_would_and_leaves_counted_ones():
    survey = SurveyFactory(kind="nps")
    responses = [
        ResponseFactory(invitation=InvitationFactory(survey=survey), score=score) for score in (0, 9, 9, 10, 6)
    ]
    rollup_count_response(response_id=responses[0].pk)  # already counted: left as it is

    assert rollup_count_new_responses(responses=responses) == 4

    assert stored_score_rollup_rows() == full_score_rollup_rows()
    assert ResponseTally.objects.count() == 5
