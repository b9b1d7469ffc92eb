"""`GET /v1/metrics`: Delighted's metrics object, read from the dashboard's rollups.

The figures are the dashboard's for the same filters: `since`/`until` (Unix seconds) select whole
days in the site's time zone, as the rollups are daily; `trend` narrows to one event type.
`groups[]` picks Delighted's metric groups: `core` (the default: NPS and response counts, at the top
level as without groups) and one group per channel (`email`, `sms`, `web`, `link`, `kiosk`, ...), each an
object of its own under the channel's name: the channel's funnel and its answers' NPS.
"""

from dataclasses import replace
from datetime import UTC, date, datetime

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from delighted.authentication import DelightedBasicAuthentication
from insights import selectors
from insights.metrics import NpsSplit, percent, split
from insights.rollups import FUNNEL_STAGES
from surveys.delighted_json import MAX_EPOCH
from surveys.models import AnswerChannel, Survey

EARLIEST = date(1970, 1, 1)
CORE = "core"
GROUPS = (CORE, *AnswerChannel.values)


class MetricsQuerySerializer(serializers.Serializer):
    since = serializers.IntegerField(required=False, min_value=0, max_value=MAX_EPOCH)
    until = serializers.IntegerField(required=False, min_value=0, max_value=MAX_EPOCH)
    trend = serializers.CharField(required=False, max_length=100)
    groups = serializers.ListField(
        child=serializers.ChoiceField(choices=GROUPS),
        required=False,
        max_length=len(GROUPS),
        help_text="Delighted's `groups[]`: core (default) and channels; each channel's figures under its name.",
    )

    def validate(self, attrs: dict) -> dict:
        if "since" in attrs and "until" in attrs and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": "Must be on or after `since`."})
        return attrs


class MetricsSerializer(serializers.Serializer):
    """Delighted's metrics object (documentation of the answer; `metrics_json` builds it)."""

    nps = serializers.IntegerField()
    promoter_count = serializers.IntegerField()
    promoter_percent = serializers.FloatField()
    passive_count = serializers.IntegerField()
    passive_percent = serializers.FloatField()
    detractor_count = serializers.IntegerField()
    detractor_percent = serializers.FloatField()
    response_count = serializers.IntegerField()


def _day(seconds: int) -> date:
    return timezone.localdate(datetime.fromtimestamp(seconds, tz=UTC))


class ChannelMetricsSerializer(MetricsSerializer):
    """One channel's group: its funnel (invitations created in the period) and its answers' NPS."""

    sent_count = serializers.IntegerField(help_text="Sent (web: cards shown).")
    delivered_count = serializers.IntegerField()
    opened_count = serializers.IntegerField(help_text="Email only.")
    bounced_count = serializers.IntegerField()
    responded_count = serializers.IntegerField(help_text="Of the invitations created in the period.")
    response_percent = serializers.FloatField(help_text="responded_count of sent_count, in percent.")


def metrics_json(nps_split: NpsSplit) -> dict:
    total = nps_split.total
    return {
        "nps": round(nps_split.nps) if total else 0,
        "promoter_count": nps_split.promoters,
        "promoter_percent": percent(nps_split.promoters, total) or 0.0,
        "passive_count": nps_split.passives,
        "passive_percent": percent(nps_split.passives, total) or 0.0,
        "detractor_count": nps_split.detractors,
        "detractor_percent": percent(nps_split.detractors, total) or 0.0,
        "response_count": total,
    }


def channel_json(stages: dict[str, int], nps_split: NpsSplit) -> dict:
    return {
        "sent_count": stages["sent"],
        "delivered_count": stages["delivered"],
        "opened_count": stages["opened"],
        "bounced_count": stages["bounced"],
        "responded_count": stages["responded"],
        "response_percent": percent(stages["responded"], stages["sent"]) or 0.0,
        **metrics_json(nps_split),
    }


def _query(request) -> dict:
    """The query as the serializer reads it: Delighted's clients send `groups[]=a&groups[]=b`."""
    data = request.query_params.dict()
    groups = request.query_params.getlist("groups[]") + request.query_params.getlist("groups")
    data.pop("groups[]", None)
    if groups:
        data["groups"] = groups
    return data


class MetricsApi(APIView):
    authentication_classes = [DelightedBasicAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="v1_metrics",
        tags=["Delighted-compatible"],
        summary="Delighted's NPS metrics for the API key's survey",
        parameters=[MetricsQuerySerializer],
        responses={200: MetricsSerializer},
    )
    def get(self, request, **kwargs):
        query = MetricsQuerySerializer(data=_query(request))
        query.is_valid(raise_exception=True)
        params = query.validated_data
        survey = request.auth.survey
        # A key without a default survey speaks for every NPS survey, as a Delighted account would, but a
        # "did we fix it?" survey, whose answers say whether a case was fixed, not how customers feel.
        nps_surveys = Survey.objects.filter(kind="nps", is_fix_check=False)
        survey_ids = (survey.pk,) if survey else tuple(nps_surveys.values_list("pk", flat=True))
        filters = selectors.Filters(
            start=_day(params["since"]) if "since" in params else EARLIEST,
            end=_day(params["until"]) if "until" in params else timezone.localdate(),
            survey_ids=survey_ids,
            event_type=params.get("trend", ""),
        )
        kind = survey.kind if survey else "nps"
        groups = params.get("groups") or [CORE]
        body = {}
        if CORE in groups:
            body.update(metrics_json(split(kind, selectors.scores(filters).histograms.get(kind, {}))))
        for channel in dict.fromkeys(group for group in groups if group != CORE):
            channel_filters = replace(filters, channel=channel)
            funnel = selectors.funnel(channel_filters)
            stages = funnel[0].stages if funnel else dict.fromkeys(FUNNEL_STAGES, 0)
            histogram = selectors.scores(channel_filters).histograms.get(kind, {})
            body[channel] = channel_json(stages, split(kind, histogram))
        return Response(body)
