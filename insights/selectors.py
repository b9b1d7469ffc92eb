"""Reads for the dashboard, its exports and /v1/metrics: scores, the funnel and the loop from the
rollups; the same filters give the same figures everywhere.

Longer than 400 lines on purpose: every figure of the dashboard reads the same `Filters` and rollup
buckets, and the page, its exports, the digest and /v1/metrics must agree; one module keeps them one
definition apart.
"""

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.models import FollowUp, RootCause, RoutingRule, User
from insights import metrics
from insights.models import FollowUpTally, FunnelRollup, LoopRollup, ScoreRollup
from insights.rollups import FUNNEL_STAGES
from surveys.models import AnswerChannel, Response, Survey, TriggerRule
from surveys.scoring import DETRACTOR_MAX, PROMOTER_MIN

KINDS = ("nps", "csat", "ces", "five_star", "thumbs")
# Groups with fewer answers than this are flagged: their figures move a lot with one answer.
SMALL_GROUP = 30
BANDS = ("detractor", "passive", "promoter")
# Medians are read from at most this many of the period's latest cases: a flat cost at any volume.
MEDIAN_SAMPLE = 1000


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    survey_ids: tuple[int, ...] | None = None  # None = every survey but the "did we fix it?" ones
    channel: str = ""
    event_type: str = ""
    team_id: int | None = None  # an agent's slice of the loop
    band: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Filters":
        """The period of the same length just before this one."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    def _surveys_q(self, prefix: str = "") -> Q:
        if self.survey_ids is not None:
            return Q(**{f"{prefix}survey_id__in": self.survey_ids})
        # Whether a case was fixed is not how customers feel about the product: those answers are figures of
        # their own, shown when their survey is picked. A subquery on the few surveys, not one more round trip.
        return ~Q(**{f"{prefix}survey_id__in": Survey.objects.filter(is_fix_check=True).values("pk")})

    def rollup_q(self) -> Q:
        q = Q(day__gte=self.start, day__lte=self.end) & self._surveys_q()
        if self.channel:
            q &= Q(channel=self.channel)
        if self.event_type:
            q &= Q(event_type=self.event_type)
        return q

    def response_q(self, prefix: str = "") -> Q:
        """The same slice over Response rows (`prefix` reaches them from another model)."""
        tz = timezone.get_current_timezone()
        q = Q(
            **{
                f"{prefix}confirmed_at__gte": datetime.combine(self.start, time.min, tzinfo=tz),
                f"{prefix}confirmed_at__lt": datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz),
            }
        )
        q &= self._surveys_q(prefix)
        if self.channel:
            q &= Q(**{f"{prefix}invitation__channel": self.channel})
        if self.event_type:
            q &= Q(**{f"{prefix}invitation__event__type": self.event_type})
        if self.band:
            q &= band_q(self.band, prefix)
        return q


def band_q(band: str, prefix: str = "") -> Q:
    """Responses in a score band, whatever their survey's kind."""
    q = Q()
    for kind in KINDS:
        if band == "detractor":
            scores = Q(**{f"{prefix}score__lte": DETRACTOR_MAX[kind]})
        elif band == "promoter":
            scores = Q(**{f"{prefix}score__gte": PROMOTER_MIN[kind]})
        else:
            scores = Q(**{f"{prefix}score__gt": DETRACTOR_MAX[kind], f"{prefix}score__lt": PROMOTER_MIN[kind]})
        q |= Q(**{f"{prefix}survey__kind": kind}) & scores
    return q


def slice_for(user: User) -> dict:
    """What part of the data a user may see: managers everything; an agent the surveys routed to
    their team (every survey if a rule routes any survey there) and their team's follow-ups."""
    if user.is_manager:
        return {"survey_ids": None, "team_id": None}
    rules = list(RoutingRule.objects.filter(team_id=user.team_id, is_active=True).values_list("survey_id", flat=True))
    survey_ids = None if None in rules else tuple(sorted(rules))
    return {"survey_ids": survey_ids, "team_id": user.team_id}


def filter_choices(visible: dict) -> dict[str, list[tuple[str, str]]]:
    """What the dashboard's pickers offer: the surveys a user may see (by name, "did we fix it?" ones
    marked) and the event types that ever led to an invitation or are awaited by a trigger rule."""
    surveys = Survey.objects.order_by("name", "pk")
    if visible["survey_ids"] is not None:
        surveys = surveys.filter(pk__in=visible["survey_ids"])
    survey_choices = [
        (str(pk), f"{name} (did we fix it?)" if is_fix_check else name)
        for pk, name, is_fix_check in surveys.values_list("pk", "name", "is_fix_check")
    ]
    # One query: UNION keeps each type once.
    event_types = (
        FunnelRollup.objects.exclude(event_type="")
        .values_list("event_type", flat=True)
        .union(TriggerRule.objects.values_list("event_type", flat=True))
    )
    return {"surveys": survey_choices, "event_types": [(name, name) for name in sorted(event_types)]}


# --- Scores -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    histograms: dict[str, dict[int, int]]

    @property
    def responses(self) -> int:
        return sum(metrics.count(h) for h in self.histograms.values())

    def _h(self, kind: str) -> dict[int, int]:
        return self.histograms.get(kind, {})

    @property
    def nps(self) -> metrics.NpsSplit:
        return metrics.nps_split(self._h("nps"))

    @property
    def csat(self) -> float | None:
        return metrics.csat_percent(self._h("csat"))

    @property
    def ces(self) -> float | None:
        return metrics.average(self._h("ces"))

    @property
    def five_star(self) -> float | None:
        return metrics.average(self._h("five_star"))

    @property
    def thumbs_up(self) -> float | None:
        return metrics.thumbs_up_percent(self._h("thumbs"))

    def count(self, kind: str) -> int:
        return metrics.count(self._h(kind))

    @property
    def counts(self) -> dict[str, int]:
        return {kind: self.count(kind) for kind in KINDS}

    @property
    def detractors(self) -> int:
        return sum(metrics.split(kind, h).detractors for kind, h in self.histograms.items())

    def headlines(self) -> list[tuple[str, str, int]]:
        """(label, figure, answers) for each kind that has answers: a group's one-line summary."""
        shown = []
        for kind in KINDS:
            n = self.count(kind)
            if not n:
                continue
            figure = {
                "nps": lambda: f"NPS {self.nps.nps:g} ±{self.nps.margin_of_error:g}",
                "csat": lambda: f"CSAT {self.csat:g}%",
                "ces": lambda: f"CES {self.ces:g}",
                "five_star": lambda: f"{self.five_star:g} ★",
                "thumbs": lambda: f"{self.thumbs_up:g}% 👍",
            }[kind]()
            shown.append((kind, figure, n))
        return shown


def _histograms(rows) -> dict[str, dict[int, int]]:
    histograms: dict[str, dict[int, int]] = defaultdict(dict)
    for row in rows:
        histograms[row["kind"]][row["score"]] = row["n"]
    return dict(histograms)


def scores(filters: Filters) -> Scores:
    rows = (
        ScoreRollup.objects.filter(filters.rollup_q(), dimension="")
        .values("kind", "score")
        .annotate(n=Sum("count"))
        .filter(n__gt=0)
    )
    return Scores(_histograms(rows))


@dataclass(frozen=True)
class Change:
    label: str
    current: float | None
    previous: float | None
    significant: bool

    @property
    def delta(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return round(self.current - self.previous, 2)


def compare(current: Scores, previous: Scores) -> list[Change]:
    """Each headline figure against the previous period, marked significant only at 95%."""
    changes = []
    if current.count("nps") or previous.count("nps"):
        z = metrics.nps_difference_z(current.nps, previous.nps)
        changes.append(Change("NPS", current.nps.nps, previous.nps.nps, metrics.is_significant(z)))
    if current.count("csat") or previous.count("csat"):
        hits = [sum(n for s, n in x._h("csat").items() if s >= 4) for x in (current, previous)]
        z = metrics.two_proportion_z(hits[0], current.count("csat"), hits[1], previous.count("csat"))
        changes.append(Change(_("CSAT %"), current.csat, previous.csat, metrics.is_significant(z)))
    for kind, label, attr in (("ces", "CES", "ces"), ("five_star", _("Five-star"), "five_star")):
        if current.count(kind) or previous.count(kind):
            z = metrics.mean_difference_z(current._h(kind), previous._h(kind))
            changes.append(Change(label, getattr(current, attr), getattr(previous, attr), metrics.is_significant(z)))
    if current.count("thumbs") or previous.count("thumbs"):
        z = metrics.two_proportion_z(
            current._h("thumbs").get(1, 0),
            current.count("thumbs"),
            previous._h("thumbs").get(1, 0),
            previous.count("thumbs"),
        )
        changes.append(Change(_("Thumbs up %"), current.thumbs_up, previous.thumbs_up, metrics.is_significant(z)))
    return changes


# --- Funnel ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelRow:
    channel: str
    stages: dict[str, int]

    def rate(self, stage: str, of: str = "scheduled") -> float | None:
        return metrics.percent(self.stages[stage], self.stages[of])

    @property
    def channel_label(self) -> str:
        if self.channel == "all":
            return _("All channels")
        return AnswerChannel(self.channel).label if self.channel in AnswerChannel.values else self.channel

    @property
    def response_rate(self) -> float | None:
        return self.rate("responded", "sent")

    @property
    def delivered_rate(self) -> float | None:
        return self.rate("delivered", "sent")


def funnel(filters: Filters) -> list[FunnelRow]:
    rows = (
        FunnelRollup.objects.filter(filters.rollup_q())
        .values("channel")
        .annotate(**{stage: Sum(stage) for stage in FUNNEL_STAGES})
        .order_by("channel")
    )
    per_channel = [FunnelRow(row["channel"], {stage: row[stage] for stage in FUNNEL_STAGES}) for row in rows]
    if len(per_channel) > 1:
        total = {stage: sum(row.stages[stage] for row in per_channel) for stage in FUNNEL_STAGES}
        per_channel.append(FunnelRow("all", total))
    return per_channel


# --- Trends ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    start: date
    scores: Scores
    sent: int
    responded: int

    @property
    def response_rate(self) -> float | None:
        return metrics.percent(self.responded, self.sent)


def weekly_trend(filters: Filters) -> list[Week]:
    """One point per week (weeks start on Monday) overlapping the period."""
    first_monday = filters.start - timedelta(days=filters.start.weekday())
    weekly = replace(filters, start=first_monday)
    histograms: dict[date, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    score_rows = (
        ScoreRollup.objects.filter(weekly.rollup_q(), dimension="")
        .values("day", "kind", "score")
        .annotate(n=Sum("count"))
    )
    for row in score_rows:
        week = row["day"] - timedelta(days=row["day"].weekday())
        bucket = histograms[week][row["kind"]]
        bucket[row["score"]] = bucket.get(row["score"], 0) + row["n"]
    sent: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for row in FunnelRollup.objects.filter(weekly.rollup_q()).values("day").annotate(s=Sum("sent"), r=Sum("responded")):
        week = row["day"] - timedelta(days=row["day"].weekday())
        sent[week][0] += row["s"]
        sent[week][1] += row["r"]
    weeks = []
    week = first_monday
    while week <= filters.end:
        weeks.append(Week(week, Scores(dict(histograms.get(week, {}))), *sent.get(week, (0, 0))))
        week += timedelta(days=7)
    return weeks


# --- Breakdowns -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    label: str
    scores: Scores

    @property
    def is_small(self) -> bool:
        return self.scores.responses < SMALL_GROUP


def _groups(queryset, key: str, labels: dict | None = None) -> list[Group]:
    grouped: dict = defaultdict(list)
    for row in queryset.values(key, "kind", "score").annotate(n=Sum("count")).filter(n__gt=0):
        grouped[row[key]].append(row)
    groups = [
        Group(str((labels or {}).get(k, k)) or str(_("(none)")), Scores(_histograms(rows)))
        for k, rows in grouped.items()
    ]
    return sorted(groups, key=lambda group: (-group.scores.responses, group.label))


def breakdown(filters: Filters, by: str) -> list[Group]:
    """Scores grouped by "survey", "event_type", "channel" or a property of DASHBOARD_BREAKDOWN_PROPERTIES."""
    base = ScoreRollup.objects.filter(filters.rollup_q())
    if by == "survey":
        totals = base.filter(dimension="")
        names = dict(totals.values_list("survey_id", "survey__name").distinct())
        return _groups(totals, "survey_id", names)
    if by in ("event_type", "channel"):
        return _groups(base.filter(dimension=""), by)
    return _groups(base.filter(dimension=by), "value")


# --- The loop ------------------------------------------------------------------------------------


@dataclass
class AgentRow:
    email: str
    cases: int = 0
    resolved: int = 0
    within_sla: int = 0
    median_hours_to_resolve: float | None = None

    @property
    def sla_percent(self) -> float | None:
        return metrics.percent(self.within_sla, self.resolved)


@dataclass(frozen=True)
class Loop:
    detractors: int
    with_case: int
    follow_ups: int
    contacted: int
    resolved: int
    within_sla: int
    recovered: int
    median_hours_to_first_contact: float | None
    median_hours_to_resolution: float | None
    median_sample: int
    root_causes: list[tuple[str, int, bool]]
    agents: list[AgentRow]

    @property
    def follow_up_percent(self) -> float | None:
        return metrics.percent(self.with_case, self.detractors)

    @property
    def contacted_percent(self) -> float | None:
        return metrics.percent(self.contacted, self.follow_ups)

    @property
    def sla_percent(self) -> float | None:
        return metrics.percent(self.within_sla, self.resolved)

    @property
    def recovery_percent(self) -> float | None:
        return metrics.percent(self.recovered, self.resolved)


def follow_ups_in(filters: Filters) -> QuerySet[FollowUp]:
    """Cases opened in the period (a case opens right after its answer), narrowed like the answers."""
    tz = timezone.get_current_timezone()
    follow_ups = FollowUp.objects.filter(
        created_at__gte=datetime.combine(filters.start, time.min, tzinfo=tz),
        created_at__lt=datetime.combine(filters.end + timedelta(days=1), time.min, tzinfo=tz),
    )
    if filters.survey_ids is not None:
        follow_ups = follow_ups.filter(response__survey_id__in=filters.survey_ids)
    if filters.channel:
        follow_ups = follow_ups.filter(response__invitation__channel=filters.channel)
    if filters.event_type:
        follow_ups = follow_ups.filter(response__invitation__event__type=filters.event_type)
    if filters.team_id is not None:
        follow_ups = follow_ups.filter(team_id=filters.team_id)
    return follow_ups


UNASSIGNED = _("(unassigned)")
LOOP_TOTALS = ("follow_ups", "contacted", "resolved", "within_sla", "recovered", "with_case")


def loop(filters: Filters, detractors: int, exclude_uncontrollable: bool = True) -> Loop:
    """How well the period's unhappy answers were followed up, read from the loop rollups.

    Cases count on the day they were opened. Recovered: a resolved case whose outcome is recovered or
    whose customer said the problem is fixed (`insights.rollups.is_recovered`). Medians are in business
    hours on each case's team calendar, over the latest MEDIAN_SAMPLE cases of the period, so their cost
    stays flat however many cases there are. Agents' rows leave out causes flagged outside their
    control when asked."""
    in_slice = filters.rollup_q()
    if filters.team_id is not None:
        in_slice &= Q(team_id=filters.team_id)
    buckets = list(
        LoopRollup.objects.filter(in_slice)
        .values("assignee_id", "root_cause_id")
        .annotate(
            follow_ups=Sum("follow_ups"),
            contacted=Sum("contacted"),
            resolved=Sum("resolved"),
            within_sla=Sum("within_sla"),
            recovered=Sum("recovered"),
            # Only answers of the period count towards the share with a case, so it never passes 100%
            # when last period's answers get their cases now.
            with_case=Coalesce(Sum("unhappy", filter=Q(answered_on__gte=filters.start)), 0),
        )
        .filter(follow_ups__gt=0)
    )
    causes = {
        pk: (name, flag) for pk, name, flag in RootCause.objects.values_list("pk", "name", "outside_agent_control")
    }
    outside = {pk for pk, (_, flag) in causes.items() if flag}
    emails = dict(User.objects.filter(pk__in={bucket["assignee_id"] for bucket in buckets}).values_list("pk", "email"))
    per_cause: dict[int, int] = defaultdict(int)
    agents: dict[str, AgentRow] = {}
    for bucket in buckets:
        if bucket["root_cause_id"] in causes:
            per_cause[bucket["root_cause_id"]] += bucket["follow_ups"]
        if exclude_uncontrollable and bucket["root_cause_id"] in outside:
            continue
        email = emails.get(bucket["assignee_id"], UNASSIGNED)
        agent = agents.setdefault(email, AgentRow(email))
        agent.cases += bucket["follow_ups"]
        agent.resolved += bucket["resolved"]
        agent.within_sla += bucket["within_sla"]
    latest = FollowUpTally.objects.filter(in_slice).order_by("-opened_at")
    first_contacts = latest.filter(hours_to_first_contact__isnull=False).values_list(
        "hours_to_first_contact", flat=True
    )
    resolutions = list(
        latest.filter(hours_to_resolve__isnull=False).values_list("assignee_id", "root_cause_id", "hours_to_resolve")[
            :MEDIAN_SAMPLE
        ]
    )
    agent_hours: dict[str, list[float]] = defaultdict(list)
    for assignee_id, cause_id, hours in resolutions:
        if not (exclude_uncontrollable and cause_id in outside):
            agent_hours[emails.get(assignee_id, UNASSIGNED)].append(hours)
    for email, agent in agents.items():
        agent.median_hours_to_resolve = metrics.median_hours(agent_hours[email])
    return Loop(
        detractors=detractors,
        **{name: sum(bucket[name] for bucket in buckets) for name in LOOP_TOTALS},
        median_hours_to_first_contact=metrics.median_hours(first_contacts[:MEDIAN_SAMPLE]),
        median_hours_to_resolution=metrics.median_hours(hours for _, _, hours in resolutions),
        median_sample=MEDIAN_SAMPLE,
        root_causes=sorted(
            ((causes[pk][0], n, causes[pk][1]) for pk, n in per_cause.items()), key=lambda cause: (-cause[1], cause[0])
        ),
        agents=sorted(agents.values(), key=lambda agent: (-agent.cases, agent.email)),
    )


# --- Comments and exports --------------------------------------------------------------------------


def responses_in(filters: Filters) -> QuerySet[Response]:
    return Response.objects.filter(filters.response_q())


def latest_comments(filters: Filters, limit: int = 20) -> list[Response]:
    responses = responses_in(filters).exclude(comment="")
    return list(
        responses.select_related("survey", "contact", "follow_up__assignee").order_by("-confirmed_at", "-pk")[:limit]
    )


def breakdown_properties() -> list[str]:
    return list(settings.DASHBOARD_BREAKDOWN_PROPERTIES)
