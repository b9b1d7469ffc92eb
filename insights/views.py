"""The manager dashboard and its CSV exports: parse the filters, read the figures, render or stream."""

import csv
from dataclasses import replace
from datetime import date, datetime, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from config.spreadsheet import csv_safe_row
from insights import analysis, selectors, why
from insights.charts import line_chart
from insights.digest import digest_subscribe
from surveys.models import AnswerChannel

DEFAULT_PERIOD = "30"


# The bands' and sentiments' names as the pickers show them (the values stay the English keys).
BAND_CHOICES = [("detractor", _("Detractors")), ("passive", _("Passives")), ("promoter", _("Promoters"))]
SENTIMENT_LABELS = {"positive": _("Positive"), "neutral": _("Neutral"), "negative": _("Negative")}


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(
        choices=[
            ("7", _("Last 7 days")),
            ("30", _("Last 30 days")),
            ("90", _("Last 90 days")),
            ("custom", _("Custom")),
        ],
        required=False,
        label=_("Period"),
    )
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label=_("Start"))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label=_("End"))
    survey = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, choices=[], label=_("Survey"))
    channel = forms.ChoiceField(
        choices=[("", _("All channels")), *AnswerChannel.choices], required=False, label=_("Channel")
    )
    event_type = forms.ChoiceField(required=False, choices=[], label=_("Event type"))
    by = forms.ChoiceField(required=False, choices=[], label=_("By"))
    band = forms.ChoiceField(choices=[("", _("All scores")), *BAND_CHOICES], required=False, label=_("Band"))
    include_uncontrollable = forms.BooleanField(required=False, label=_("Count causes outside agents' control"))
    theme = forms.ChoiceField(required=False, choices=[], label=_("Comments about"))
    sentiment = forms.ChoiceField(
        required=False,
        choices=[("", _("Any sentiment")), *[(s, SENTIMENT_LABELS[s]) for s in why.SENTIMENTS]],
        label=_("Sentiment"),
    )
    language = forms.ChoiceField(
        required=False,
        choices=[("", _("Any language")), ("en", _("English")), ("fr", _("French"))],
        label=_("Language"),
    )

    def __init__(self, data, *, visible: dict):
        # The period in effect is the one the picker shows: without one, the default is written into the
        # form's data, so the select says "Last 30 days" and pressing Show keeps it (it showed the first
        # option, 7 days, over 30 days of figures, and submitted 7).
        data = data.copy()
        if not data.get("period"):
            data["period"] = DEFAULT_PERIOD
        super().__init__(data)
        choices = selectors.filter_choices(visible)
        self.fields["survey"].choices = [("", _("All surveys")), *choices["surveys"]]
        self.fields["event_type"].choices = [("", _("All event types")), *choices["event_types"]]
        self.fields["by"].choices = [("", _("Pick a property…"))] + [(p, p) for p in selectors.breakdown_properties()]
        self.fields["theme"].choices = [("", _("Any theme")), *why.theme_choices(), ("other", _("No theme (other)"))]

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None:
                self.add_error("start", _("Pick the first day of a custom period."))
            if end is None:
                self.add_error("end", _("Pick the last day of a custom period."))
            if start and end and start > end:
                self.add_error("end", _("The last day must be on or after the first day."))
            if start and end and (end - start).days > 366 * 3:
                self.add_error("end", _("Pick a period of at most three years."))
            # The period compared with is as long again before it, and days are read up to the day after:
            # near year 1 or 9999 those dates do not exist (an OverflowError, a 500, before).
            for name in ("start", "end"):
                day = data.get(name)
                if day and not (EARLIEST_DAY <= day <= LATEST_DAY):
                    self.add_error(
                        name,
                        _("Pick days between %(first)s and %(last)s.") % {"first": EARLIEST_DAY, "last": LATEST_DAY},
                    )
        else:
            days = int(data.get("period") or DEFAULT_PERIOD)
            data["start"], data["end"] = today - timedelta(days=days - 1), today
        return data


EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(9000, 12, 31)


def _filters(request) -> tuple[DashboardFilterForm, selectors.Filters | None]:
    if not request.user.is_manager and request.user.team_id is None:
        raise PermissionDenied(_("The dashboard shows a team's figures; you belong to no team."))
    visible = selectors.slice_for(request.user)
    # The survey picker lists only the surveys of the user's slice: any other id is a form error.
    form = DashboardFilterForm(request.GET, visible=visible)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    survey_ids = (data["survey"],) if data["survey"] else visible["survey_ids"]
    filters = selectors.Filters(
        start=data["start"],
        end=data["end"],
        survey_ids=survey_ids,
        channel=data["channel"],
        event_type=data["event_type"],
        team_id=visible["team_id"],
        band=data["band"],
    )
    return form, filters


def _trend_charts(weeks: list[selectors.Week]) -> list:
    labels = [date_format(week.start, "d M") for week in weeks]  # months in the reader's language
    charts = [
        line_chart(_("Response rate (%)"), list(zip(labels, [w.response_rate for w in weeks], strict=True)), 0, 100)
    ]
    for kind, title, low, high, figure in (
        ("nps", "NPS", -100, 100, lambda s: s.nps.nps),
        ("csat", "CSAT (% 4–5)", 0, 100, lambda s: s.csat),
        ("ces", _("CES (average, 1–7)"), 1, 7, lambda s: s.ces),
        ("five_star", _("Five-star (average)"), 1, 5, lambda s: s.five_star),
        ("thumbs", _("Thumbs up (%)"), 0, 100, lambda s: s.thumbs_up),
    ):
        if any(week.scores.count(kind) for week in weeks):
            values = [figure(week.scores) for week in weeks]
            charts.append(line_chart(title, list(zip(labels, values, strict=True)), low, high))
    return charts


@login_required
@require_GET
def dashboard(request):
    form, filters = _filters(request)
    if filters is None:
        return render(request, "insights/dashboard.html", {"form": form}, status=400)
    current = selectors.scores(filters)
    previous_filters = filters.previous()
    breakdown_by = form.cleaned_data["by"]
    context = {
        "form": form,
        "filters": filters,
        "previous": previous_filters,
        "scores": current,
        "changes": selectors.compare(current, selectors.scores(previous_filters)),
        "funnel": selectors.funnel(filters),
        "charts": _trend_charts(selectors.weekly_trend(filters)),
        "breakdowns": [
            (_("Survey"), selectors.breakdown(filters, "survey")),
            (_("Event type"), selectors.breakdown(filters, "event_type")),
            (_("Channel"), selectors.breakdown(filters, "channel")),
        ]
        + ([(breakdown_by, selectors.breakdown(filters, breakdown_by))] if breakdown_by else []),
        "loop": selectors.loop(
            replace(filters, band=""),
            current.detractors,
            exclude_uncontrollable=not form.cleaned_data["include_uncontrollable"],
        ),
        "comments": _comments(form, filters),
        "small_group": selectors.SMALL_GROUP,
        "query": request.GET.urlencode(),
        **_why_context(request, filters),
    }
    return render(request, "insights/dashboard.html", context)


def _comments(form, filters: selectors.Filters) -> list:
    data = form.cleaned_data
    if data["theme"] or data["sentiment"] or data["language"]:
        return list(why.comments(filters, theme=data["theme"], sentiment=data["sentiment"], language=data["language"]))
    return selectors.latest_comments(filters)


def _why_context(request, filters: selectors.Filters) -> dict:
    """The Why section: themes ranked with their impact, and their weekly shares as a table (13 weeks at most)."""
    reading = why.why(filters)
    weeks = reading.weeks[-13:]
    rows = [(row.name, [week.shares.get(row.slug) for week in weeks]) for row in reading.themes]
    query = request.GET.copy()
    for name in ("theme", "sentiment", "language"):
        query.pop(name, None)
    return {
        "why": reading,
        "why_status": analysis.status(),
        "why_weeks": weeks,
        "why_trend_rows": rows,
        "query_without_why": query.urlencode(),
    }


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def _stream_csv(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            # Respondents write comments: a cell starting like a formula is made text (config/spreadsheet.py).
            yield writer.writerow(csv_safe_row(row))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# (CSV header, the field it reads): what each export holds, in its column order.
RESPONSE_COLUMNS = [
    ("id", "pk"),
    ("confirmed_at", "confirmed_at"),
    ("survey", "survey__name"),
    ("kind", "survey__kind"),
    ("score", "score"),
    ("comment", "comment"),
    ("channel", "invitation__channel"),
    ("event_type", "invitation__event__type"),
    ("email", "contact__email"),
    ("phone", "contact__phone"),
    ("follow_up_status", "follow_up__status"),
]
FOLLOW_UP_COLUMNS = [
    ("id", "pk"),
    ("created_at", "created_at"),
    ("status", "status"),
    ("team", "team__name"),
    ("assignee", "assignee__email"),
    ("due_at", "due_at"),
    ("resolved_at", "resolved_at"),
    ("root_cause", "root_cause__name"),
    ("survey", "response__survey__name"),
    ("score", "response__score"),
    ("comment", "response__comment"),
    ("email", "response__contact__email"),
]


def _csv_value(value):
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else value


def _export(request, name: str, rows_in, order: str, columns: list[tuple[str, str]]):
    """The dashboard's filters applied to `rows_in(filters)`, streamed as CSV in `order`; bad filters are a 400 page."""
    form, filters = _filters(request)
    if filters is None:
        return render(request, "insights/dashboard.html", {"form": form}, status=400)
    values = rows_in(filters).order_by(order, "pk").values_list(*(field for _, field in columns))
    rows = ([_csv_value(value) for value in row] for row in values.iterator(chunk_size=2000))
    return _stream_csv(f"{name}-{filters.start}-{filters.end}.csv", [header for header, _ in columns], rows)


@login_required
@require_GET
def export_responses(request):
    return _export(request, "responses", selectors.responses_in, "confirmed_at", RESPONSE_COLUMNS)


@login_required
@require_GET
def export_follow_ups(request):
    return _export(request, "follow-ups", selectors.follow_ups_in, "created_at", FOLLOW_UP_COLUMNS)


@login_required
@require_POST
def digest_subscription(request):
    """Managers opt in or out of the weekly digest email."""
    if not request.user.is_manager:
        raise PermissionDenied("The weekly digest is for managers.")
    digest_subscribe(user=request.user, wants=request.POST.get("wants") == "1")
    return redirect("dashboard")
