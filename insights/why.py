"""Reads for the dashboard's "Why" section: which themes customers mention, how those who mention each
one score against those who do not, how mentions move week by week, and the comments behind them.

Figures come from `ThemeRollup` (never from responses), with the dashboard's filters; the comments list
reads the latest matching responses only. The impact arithmetic is plain functions over histograms.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q, QuerySet, Sum

from insights import metrics
from insights.models import Theme, ThemeRollup
from insights.selectors import Filters
from surveys.models import Response

ALL = ""
LANGUAGES = ("en", "fr")
SENTIMENTS = ("positive", "neutral", "negative")
# A theme mentioned by fewer analysed answers than this has its impact shown as too few to tell.
SMALL_GROUP = 30


@dataclass(frozen=True)
class Impact:
    """The score among those who mention a theme against those who do not, and the difference's margin."""

    metric: str  # "NPS" or "CSAT %"
    with_theme: float | None
    without_theme: float | None
    margin: float | None  # 95% half-width of the difference, in the metric's points

    @property
    def difference(self) -> float | None:
        if self.with_theme is None or self.without_theme is None:
            return None
        return round(self.with_theme - self.without_theme, 1)

    @property
    def is_significant(self) -> bool:
        return self.difference is not None and self.margin is not None and abs(self.difference) > self.margin


def _subtract(whole: dict[int, int], part: dict[int, int]) -> dict[int, int]:
    return {score: whole.get(score, 0) - part.get(score, 0) for score in whole}


def nps_impact(mentioning: dict[int, int], everyone: dict[int, int]) -> Impact:
    inside = metrics.nps_split(mentioning)
    outside = metrics.nps_split(_subtract(everyone, mentioning))
    margin = None
    if inside.total and outside.total:
        margin = round(
            100 * metrics.Z_95 * math.sqrt(inside.variance / inside.total + outside.variance / outside.total), 1
        )
    return Impact("NPS", inside.nps, outside.nps, margin)


def csat_impact(mentioning: dict[int, int], everyone: dict[int, int]) -> Impact:
    others = _subtract(everyone, mentioning)
    n_in, n_out = metrics.count(mentioning), metrics.count(others)
    p_in = metrics.csat_percent(mentioning)
    p_out = metrics.csat_percent(others)
    margin = None
    if n_in and n_out:
        a, b = p_in / 100, p_out / 100
        margin = round(100 * metrics.Z_95 * math.sqrt(a * (1 - a) / n_in + b * (1 - b) / n_out), 1)
    return Impact("CSAT %", p_in, p_out, margin)


@dataclass(frozen=True)
class ThemeRow:
    slug: str
    name: str
    mentions: int
    detractors: int
    promoters: int
    share: float | None  # % of the analysed comments
    impact: Impact | None

    @property
    def is_small(self) -> bool:
        return self.mentions < SMALL_GROUP


@dataclass(frozen=True)
class ThemeWeek:
    start: date
    shares: dict[str, float | None]  # theme slug -> % of that week's analysed comments


@dataclass(frozen=True)
class Why:
    analysed: int
    themes: list[ThemeRow]
    weeks: list[ThemeWeek]
    other: int  # analysed comments with no theme


def theme_choices() -> list[tuple[str, str]]:
    return list(Theme.objects.values_list("slug", "name"))


def why(filters: Filters) -> Why:
    rows = (
        ThemeRollup.objects.filter(filters.rollup_q())
        .values("theme", "kind", "score")
        .annotate(n=Sum("count"))
        .order_by()
    )
    histograms: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for row in rows:
        histograms[row["theme"], row["kind"]][row["score"]] = row["n"]
    kinds = {kind for _theme, kind in histograms}
    everyone = {kind: histograms.get((ALL, kind), {}) for kind in kinds}
    analysed = sum(metrics.count(h) for h in everyone.values())
    primary = "nps" if everyone.get("nps") else "csat" if everyone.get("csat") else None
    names = dict(Theme.objects.values_list("slug", "name"))
    result = []
    mentioned_total = 0
    for slug in sorted({theme for theme, _kind in histograms if theme}):
        per_kind = {kind: histograms.get((slug, kind), {}) for kind in kinds}
        mentions = sum(metrics.count(h) for h in per_kind.values())
        if not mentions:
            continue
        mentioned_total += mentions
        splits = [metrics.split(kind, h) for kind, h in per_kind.items() if h]
        impact = None
        if primary == "nps":
            impact = nps_impact(per_kind.get("nps", {}), everyone["nps"])
        elif primary == "csat":
            impact = csat_impact(per_kind.get("csat", {}), everyone["csat"])
        result.append(
            ThemeRow(
                slug=slug,
                name=names.get(slug, slug),
                mentions=mentions,
                detractors=sum(s.detractors for s in splits),
                promoters=sum(s.promoters for s in splits),
                share=metrics.percent(mentions, analysed),
                impact=impact,
            )
        )
    result.sort(key=lambda row: (-row.detractors, -row.promoters, row.slug))
    return Why(analysed=analysed, themes=result, weeks=weekly_theme_trend(filters), other=_other(filters))


def _other(filters: Filters) -> int:
    # "other" is not rolled up by name: the analysed comments minus those with at least one theme
    # would double-count multi-theme comments, so the count comes from the tallies' empty theme lists.
    from insights.models import ThemeTally

    q = Q(day__gte=filters.start, day__lte=filters.end, themes=[])
    if filters.survey_ids is not None:
        q &= Q(survey_id__in=filters.survey_ids)
    if filters.channel:
        q &= Q(channel=filters.channel)
    if filters.event_type:
        q &= Q(event_type=filters.event_type)
    return ThemeTally.objects.filter(q).count()


def weekly_theme_trend(filters: Filters) -> list[ThemeWeek]:
    rows = ThemeRollup.objects.filter(filters.rollup_q()).values("day", "theme").annotate(n=Sum("count")).order_by()
    per_week: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        monday = row["day"] - timedelta(days=row["day"].weekday())
        per_week[monday][row["theme"]] += row["n"]
    weeks = []
    for monday in sorted(per_week):
        counts = per_week[monday]
        total = counts.get(ALL, 0)
        weeks.append(ThemeWeek(monday, {slug: metrics.percent(n, total) for slug, n in counts.items() if slug != ALL}))
    return weeks


def comments(
    filters: Filters, *, theme: str = "", sentiment: str = "", language: str = "", limit: int = 20
) -> QuerySet[Response]:
    """The latest analysed comments of the period, narrowed by theme, sentiment, language (and the filters' band)."""
    queryset = Response.objects.filter(filters.response_q()).exclude(comment="").filter(analysed_at__isnull=False)
    if theme == "other":
        queryset = queryset.filter(themes=[])
    elif theme:
        queryset = queryset.filter(themes__icontains=f'"{theme}"')
    if sentiment:
        queryset = queryset.filter(sentiment=sentiment)
    if language:
        queryset = queryset.filter(language=language)
    return queryset.select_related("survey", "contact", "follow_up__assignee").order_by("-confirmed_at", "-pk")[:limit]


@dataclass(frozen=True)
class Mover:
    slug: str
    name: str
    share: float  # % of the period's analysed comments that mention it
    previous_share: float
    mentions: int

    @property
    def change(self) -> float:
        return round(self.share - self.previous_share, 1)


def _shares(filters: Filters) -> tuple[int, dict[str, int]]:
    rows = ThemeRollup.objects.filter(filters.rollup_q()).values("theme").annotate(n=Sum("count")).order_by()
    counts = {row["theme"]: row["n"] for row in rows}
    return counts.pop(ALL, 0), counts


def top_movers(filters: Filters, limit: int = 3) -> list[Mover]:
    """The themes whose share of comments moved most against the period just before (ties: more mentions)."""
    total, counts = _shares(filters)
    before_total, before = _shares(filters.previous())
    if not total or not before_total:
        return []
    names = dict(Theme.objects.values_list("slug", "name"))
    movers = [
        Mover(
            slug=slug,
            name=names.get(slug, slug),
            share=round(100 * counts.get(slug, 0) / total, 1),
            previous_share=round(100 * before.get(slug, 0) / before_total, 1),
            mentions=counts.get(slug, 0),
        )
        for slug in set(counts) | set(before)
        if slug in names
    ]
    movers = [m for m in movers if m.change]
    movers.sort(key=lambda m: (-abs(m.change), -m.mentions, m.slug))
    return movers[:limit]
