from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time

import pytest
import time_machine
from django.utils import translation

from feedback.models import FollowUpEntry
from insights import selectors
from insights.rollups import (
    full_loop_rollup_rows,
    rollup_count_follow_up,
    rollup_rebuild,
    rollup_refresh_funnel,
    stored_loop_rollup_rows,
)
from notifications.models import Message
from tests.factories import (
    ContactFactory,
    EventFactory,
    FollowUpFactory,
    InvitationFactory,
    ManagerFactory,
    MessageFactory,
    ResponseFactory,
    RootCauseFactory,
    RoutingRuleFactory,
    SurveyFactory,
    TeamFactory,
    UserFactory,
)

NOW = datetime.fromisoformat("2026-11-10T12:00:00+00:00")
PERIOD = selectors.Filters(start=date(2026, 11, 4), end=date(2026, 11, 10))


def _answer(survey, score, at=NOW, channel="email", comment="", **event):
    contact = ContactFactory(properties={"plan": event.pop("plan", "")})
    invitation = InvitationFactory(
        survey=survey, contact=contact, channel=channel, event=EventFactory(contact=contact, **event)
    )
    return ResponseFactory(invitation=invitation, score=score, confirmed_at=at, comment=comment)


@pytest.fixture(autouse=True)
def frozen(settings):
    settings.DASHBOARD_BREAKDOWN_PROPERTIES = ["event:store", "contact:plan"]
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.django_db
def test_scores_read_nps_split_from_rollups():
    survey = SurveyFactory(kind="nps")
    for score in (10, 9, 7, 3):
        _answer(survey, score)
    _answer(survey, 0, at=NOW - timedelta(days=30))  # outside the period
    rollup_rebuild()
    result = selectors.scores(PERIOD)
    assert (result.nps.promoters, result.nps.passives, result.nps.detractors, result.nps.nps) == (2, 1, 1, 25.0)
    assert (result.responses, result.detractors) == (4, 1)


@pytest.mark.django_db
def test_scores_cover_every_kind():
    for kind, scores in (("csat", [5, 4, 1]), ("ces", [7, 5]), ("five_star", [5, 4]), ("thumbs", [1, 0])):
        survey = SurveyFactory(kind=kind)
        for score in scores:
            _answer(survey, score)
    rollup_rebuild()
    result = selectors.scores(PERIOD)
    assert (result.csat, result.ces, result.five_star, result.thumbs_up) == (66.7, 6.0, 4.5, 50.0)


@pytest.mark.django_db
def test_filters_previous_is_the_same_length_just_before():
    previous = PERIOD.previous()
    assert (previous.start, previous.end, previous.days) == (date(2026, 10, 28), date(2026, 11, 3), 7)


@pytest.mark.django_db
def test_compare_marks_only_significant_changes():
    survey = SurveyFactory(kind="nps")
    before = NOW - timedelta(days=7)
    for score in [10] * 40 + [0] * 10:
        _answer(survey, score)
    for score in [10] * 10 + [0] * 40:
        _answer(survey, score, at=before)
    csat = SurveyFactory(kind="csat")
    for at in (NOW, before):
        _answer(csat, 5, at=at)
        _answer(csat, 1, at=at)
    rollup_rebuild()
    changes = {c.label: c for c in selectors.compare(selectors.scores(PERIOD), selectors.scores(PERIOD.previous()))}
    assert (changes["NPS"].current, changes["NPS"].previous, changes["NPS"].delta) == (60.0, -60.0, 120.0)
    assert changes["NPS"].significant
    assert (changes["CSAT %"].delta, changes["CSAT %"].significant) == (0.0, False)


@pytest.mark.django_db
def test_funnel_per_channel_with_total():
    survey = SurveyFactory()
    delivered = MessageFactory(status=Message.Status.DELIVERED, sent_at=NOW)
    InvitationFactory(survey=survey, message=delivered, event=None)
    InvitationFactory(survey=survey, channel="sms", event=None, message=MessageFactory(channel="sms", sent_at=NOW))
    rollup_refresh_funnel()
    rows = {row.channel: row for row in selectors.funnel(PERIOD)}
    assert list(rows) == ["email", "sms", "all"]
    assert (rows["all"].stages["scheduled"], rows["all"].stages["sent"], rows["email"].delivered_rate) == (2, 2, 100.0)


@pytest.mark.django_db
def test_weekly_trend_has_one_point_per_monday():
    survey = SurveyFactory(kind="nps")
    _answer(survey, 10, at=NOW - timedelta(days=8))
    rollup_rebuild()
    weeks = selectors.weekly_trend(selectors.Filters(start=date(2026, 10, 28), end=date(2026, 11, 10)))
    assert [week.start for week in weeks] == [date(2026, 10, 26), date(2026, 11, 2), date(2026, 11, 9)]
    assert [week.scores.nps.nps for week in weeks] == [None, 100.0, None]


@pytest.mark.django_db
def test_breakdown_by_property_flags_small_groups():
    survey = SurveyFactory(kind="nps", name="Delivery")
    for _ in range(30):
        _answer(survey, 10, properties={"store": "Lyon"})
    _answer(survey, 0, properties={"store": "Nice"}, type="ticket")
    rollup_rebuild()
    groups = selectors.breakdown(PERIOD, "event:store")
    assert [(g.label, g.scores.responses, g.is_small) for g in groups] == [("Lyon", 30, False), ("Nice", 1, True)]
    assert [(g.label, g.scores.responses) for g in selectors.breakdown(PERIOD, "event_type")] == [
        ("purchase", 30),
        ("ticket", 1),
    ]
    assert [g.label for g in selectors.breakdown(PERIOD, "survey")] == ["Delivery"]
    assert groups[1].scores.headlines() == [("nps", "NPS -100 ±0", 1)]


def _resolve(follow_up, at=NOW, **fields):
    """Resolve a case as the services do: a saved change, announced, which the loop rollups follow."""
    for name, value in {"status": "resolved", "resolved_at": at, **fields}.items():
        setattr(follow_up, name, value)
    follow_up.save()
    rollup_count_follow_up(follow_up_id=follow_up.pk)


@pytest.mark.django_db
def test_loop_figures_and_agents_excluding_uncontrollable_causes():
    survey = SurveyFactory(kind="nps")
    agent = UserFactory(email="a@closeloop.test")
    weather = RootCauseFactory(name="Weather", outside_agent_control=True)
    late = RootCauseFactory(name="Late")
    opened = NOW - timedelta(hours=10)
    with time_machine.travel(opened, tick=False):
        resolved = FollowUpFactory(response=_answer(survey, 2), assignee=agent, team=agent.team, due_at=NOW)
        uncontrollable = FollowUpFactory(response=_answer(survey, 8), assignee=agent, team=agent.team, due_at=opened)
        FollowUpFactory(response=_answer(survey, 1), assignee=None, team=agent.team)
    with time_machine.travel(opened + timedelta(hours=2), tick=False):
        FollowUpEntry.objects.create(follow_up=resolved, kind="note", author=agent, body="Called")
        rollup_count_follow_up(follow_up_id=resolved.pk)
    _resolve(resolved, root_cause=late, outcome="recovered")
    _resolve(uncontrollable, root_cause=weather, outcome="not_recovered")
    result = selectors.loop(PERIOD, detractors=4)
    # Two of the four unhappy answers have a case (the third case is for a passive 8).
    assert (result.follow_ups, result.with_case, result.follow_up_percent) == (3, 2, 50.0)
    assert (result.contacted, result.resolved) == (1, 2)
    # Opened Tuesday 02:00, first contact 04:00 (before opening: 0 business hours), resolved 12:00 (3).
    assert (result.median_hours_to_first_contact, result.median_hours_to_resolution) == (0.0, 3.0)
    assert (result.within_sla, result.sla_percent, result.recovered, result.recovery_percent) == (1, 50.0, 1, 50.0)
    assert result.root_causes == [("Late", 1, False), ("Weather", 1, True)]
    assert [(a.email, a.cases, a.resolved, a.sla_percent, a.median_hours_to_resolve) for a in result.agents] == [
        ("(unassigned)", 1, 0, None, None),
        ("a@closeloop.test", 1, 1, 100.0, 3.0),
    ]
    with translation.override("fr"):  # the row's name is read when the dashboard is drawn, in its reader's language
        assert str(result.agents[0].email) == "(non attribué)"
    everyone = selectors.loop(PERIOD, detractors=4, exclude_uncontrollable=False)
    assert [(a.email, a.cases, a.sla_percent) for a in everyone.agents][0] == ("a@closeloop.test", 2, 50.0)
    # The rollups hold what a recount from the cases gives.
    assert stored_loop_rollup_rows() == full_loop_rollup_rows()


@pytest.mark.django_db
def test_loop_counts_a_yes_to_did_we_fix_it_as_recovered():
    survey = SurveyFactory(kind="nps")
    with time_machine.travel(NOW - timedelta(hours=1), tick=False):
        confirmed, denied = (FollowUpFactory(response=_answer(survey, 3)) for _ in range(2))
        still_open = FollowUpFactory(response=_answer(survey, 3))
    _resolve(confirmed, outcome="not_recovered", fix_confirmed=True)
    _resolve(denied, outcome="not_recovered", fix_confirmed=False)
    still_open.fix_confirmed = True  # only a resolution can recover a customer
    still_open.save()
    rollup_count_follow_up(follow_up_id=still_open.pk)
    result = selectors.loop(PERIOD, detractors=3)
    assert (result.resolved, result.recovered, result.recovery_percent) == (2, 1, 50.0)


@pytest.mark.django_db
def test_loop_medians_use_each_cases_team_calendar():
    survey = SurveyFactory(kind="nps")
    # Tuesday 10 November, 06:00 to 12:00 UTC. Paris opens 09:00 local (08:00 UTC): 4 h. Night shift
    # 00:00-08:00 UTC: 2 h. A site-wide 09:00-17:00 UTC calendar would say 3 h for both.
    paris = TeamFactory(name="Paris", time_zone="Europe/Paris")
    night = TeamFactory(name="Night", opens_at=dt_time(0, 0), closes_at=dt_time(8, 0))
    with time_machine.travel(NOW - timedelta(hours=6), tick=False):
        cases = [FollowUpFactory(response=_answer(survey, 3), team=team) for team in (paris, night)]
    for case in cases:
        _resolve(case)
    assert [
        selectors.loop(replace(PERIOD, team_id=team.pk), 2).median_hours_to_resolution for team in (paris, night)
    ] == [
        4.0,
        2.0,
    ]
    assert selectors.loop(PERIOD, 2).median_hours_to_resolution == 3.0


@pytest.mark.django_db
def test_loop_slices_by_team_survey_channel_and_event_type():
    mine, other = SurveyFactory(kind="nps"), SurveyFactory(kind="nps")
    team, other_team = TeamFactory(), TeamFactory()
    FollowUpFactory(response=_answer(mine, 2, channel="sms", type="ticket"), team=team)
    FollowUpFactory(response=_answer(mine, 2), team=other_team)
    FollowUpFactory(response=_answer(other, 2), team=team)
    with time_machine.travel(NOW - timedelta(days=8), tick=False):
        FollowUpFactory(response=_answer(mine, 2, at=NOW - timedelta(days=8)), team=team)  # before the period
    counts = [
        selectors.loop(replace(PERIOD, **narrowed), 0).follow_ups
        for narrowed in (
            {},
            {"team_id": team.pk},
            {"survey_ids": (mine.pk,)},
            {"channel": "sms"},
            {"event_type": "ticket"},
            {"survey_ids": ()},
        )
    ]
    assert counts == [3, 2, 2, 1, 1, 0]


@pytest.mark.django_db
def test_loop_share_with_a_case_counts_only_answers_of_the_period():
    survey = SurveyFactory(kind="nps")
    # Answered the evening before the period, its case opened on the period's first day.
    late = _answer(survey, 2, at=datetime(2026, 11, 3, 23, 50, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 11, 4, 0, 5, tzinfo=UTC), tick=False):
        FollowUpFactory(response=late)
    result = selectors.loop(PERIOD, detractors=0)
    assert (result.follow_ups, result.with_case, result.follow_up_percent) == (1, 0, None)


@pytest.mark.django_db
@pytest.mark.parametrize("n", [1, 20])
def test_loop_query_count_does_not_grow_with_cases(django_assert_num_queries, n):
    agent = UserFactory()
    survey = SurveyFactory(kind="nps")
    for _ in range(n):
        _resolve(
            FollowUpFactory(response=_answer(survey, 2), assignee=agent, team=agent.team), root_cause=RootCauseFactory()
        )
    # Buckets, root causes, agents' emails, the two median samples.
    with django_assert_num_queries(5):
        assert selectors.loop(PERIOD, detractors=n).resolved == n


@pytest.mark.django_db
def test_slice_for_agent_is_their_teams_routed_surveys(agent, other_agent):
    mine, theirs = SurveyFactory(), SurveyFactory()
    RoutingRuleFactory(team=agent.team, survey=mine)
    RoutingRuleFactory(team=other_agent.team, survey=None)
    assert selectors.slice_for(agent) == {"survey_ids": (mine.pk,), "team_id": agent.team_id}
    assert selectors.slice_for(other_agent) == {"survey_ids": None, "team_id": other_agent.team_id}
    assert selectors.slice_for(ManagerFactory()) == {"survey_ids": None, "team_id": None}
    assert theirs.pk not in selectors.slice_for(agent)["survey_ids"]


@pytest.mark.django_db
def test_latest_comments_filter_by_band():
    nps, csat = SurveyFactory(kind="nps"), SurveyFactory(kind="csat")
    unhappy = _answer(nps, 3, comment="Late again")
    _answer(nps, 10, comment="Great")
    happy_csat = _answer(csat, 5, comment="Lovely", at=NOW - timedelta(minutes=1))
    _answer(nps, 2)  # no comment
    assert selectors.latest_comments(PERIOD.__class__(**{**PERIOD.__dict__, "band": "detractor"})) == [unhappy]
    promoters = selectors.latest_comments(PERIOD.__class__(**{**PERIOD.__dict__, "band": "promoter"}))
    assert [r.comment for r in promoters] == ["Great", "Lovely"]
    assert happy_csat in promoters


@pytest.mark.django_db
def test_all_surveys_leave_out_did_we_fix_it_answers_that_stay_one_pick_away():
    nps = SurveyFactory(kind="nps")
    fix_check = SurveyFactory(kind="thumbs", name="Did we fix it?")
    RoutingRuleFactory(fix_check_survey=fix_check)
    for score in (10, 3):
        _answer(nps, score, comment="About the product")
    for score in (0, 0, 1):
        _answer(fix_check, score, comment="Still broken")
    InvitationFactory(survey=fix_check, event=None, message=MessageFactory(sent_at=NOW))
    rollup_rebuild()
    picked = replace(PERIOD, survey_ids=(fix_check.pk,))

    everything = selectors.scores(PERIOD)
    assert (everything.responses, everything.detractors, everything.thumbs_up) == (2, 1, None)
    assert [row.stages["scheduled"] for row in selectors.funnel(PERIOD)] == [2]
    assert [group.label for group in selectors.breakdown(PERIOD, "survey")] == [nps.name]
    assert [week.scores.responses for week in selectors.weekly_trend(PERIOD)] == [0, 2]
    assert [response.comment for response in selectors.latest_comments(PERIOD)] == ["About the product"] * 2
    assert selectors.loop(PERIOD, everything.detractors).detractors == 1

    alone = selectors.scores(picked)
    assert (alone.responses, alone.detractors, alone.thumbs_up) == (3, 2, 33.3)
    assert [row.stages["scheduled"] for row in selectors.funnel(picked)] == [4]
    assert [response.comment for response in selectors.latest_comments(picked)] == ["Still broken"] * 3
