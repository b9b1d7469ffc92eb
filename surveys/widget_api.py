"""The web widget's public surface: `/web/snippet.js` and the JSON endpoints it calls, keyed by a publishable key.

`POST /web/v1/<key>/survey` decides whether to show the key's survey to the visitor (and returns the card);
`POST /web/v1/<key>/answer` records the card's score, reason and additional answers. Both answer only to the
origins the key allows (CORS, checked against `Origin`), are rate limited per address, and set no cookie.
"""

from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from surveys.branding import DEFAULT_COLOR, branding_for
from surveys.models import Invitation, PublishableKey, Question
from surveys.rate_limits import address_over_limit
from surveys.scales import score_buttons
from surveys.services.publishable_keys import origin_normalize
from surveys.services.widget import (
    DisplayOptions,
    Visitor,
    widget_answer_comment,
    widget_answer_question,
    widget_answer_score,
    widget_decide,
    widget_invitation,
)
from surveys.wording import WORDING, typeset

SNIPPET = Path(settings.BASE_DIR) / "static" / "web" / "snippet.js"
MAX_PROPERTIES = 50
ERROR_RESPONSES = {
    400: OpenApiResponse(description="Invalid input: `errors` names each field."),
    403: OpenApiResponse(description="The page's `Origin` is not among the key's allowed origins."),
    404: OpenApiResponse(description="No such publishable key, or it was revoked."),
    429: OpenApiResponse(description="Too many requests from this address: wait `Retry-After` seconds."),
}
MAX_SECONDS = 10 * 366 * 24 * 3600  # ten years: beyond, a period or delay is a mistake


@cache
def _snippet_source() -> bytes:
    return SNIPPET.read_bytes()


@require_GET
def snippet(request) -> HttpResponse:
    """The snippet itself: one plain script, the same for every key (the page's `data-key` names it)."""
    response = HttpResponse(_snippet_source(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    # Any site may load the script; what it may do is decided per key by the endpoints below.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Access-Control-Allow-Origin"] = "*"
    return response


class PropertiesField(serializers.DictField):
    """Delighted's `properties`: flat names to text, numbers or booleans (as its API takes them)."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if len(data) > MAX_PROPERTIES:
            raise serializers.ValidationError(f"At most {MAX_PROPERTIES} properties.")
        for name, value in data.items():
            if len(name) > 100:
                raise serializers.ValidationError("Property names have at most 100 characters.")
            if value is not None and not isinstance(value, (str, int, float, bool)):
                raise serializers.ValidationError(f"{name}: give text, a number or a boolean.")
            if isinstance(value, str) and (len(value) > 1000 or "\x00" in value):
                raise serializers.ValidationError(f"{name}: at most 1,000 characters of text.")
        return data


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 0}, {"type": "boolean", "enum": [False]}]})
class RecurringPeriodField(serializers.Field):
    """Seconds between two cards for the same person, or `false` for once ever (Delighted's)."""

    def to_internal_value(self, data):
        if data is False:
            return False
        if isinstance(data, bool) or not isinstance(data, int) or not 0 <= data <= MAX_SECONDS:
            raise serializers.ValidationError("Give a number of seconds, or false to ask only once.")
        return data

    def to_representation(self, value):
        return value


class SurveyRequestSerializer(serializers.Serializer):
    """What `closeloop.survey({...})` / `delighted.survey({...})` sends; the names are Delighted's."""

    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    visitor = serializers.RegexField(
        r"^[A-Za-z0-9-]{8,64}$", required=False, help_text="The snippet's anonymous visitor id (localStorage)."
    )
    createdAt = serializers.DateTimeField(required=False, allow_null=True)
    properties = PropertiesField(required=False)
    sampleFactor = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)
    recurringPeriod = RecurringPeriodField(required=False, allow_null=True)
    initialDelay = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_SECONDS)
    minTimeOnPage = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_SECONDS, help_text="Applied by the snippet."
    )
    forceDisplay = serializers.BooleanField(required=False)

    def validate(self, attrs):
        if not attrs.get("email") and not attrs.get("visitor"):
            raise serializers.ValidationError({"visitor": "Give the person's email or the snippet's visitor id."})
        locale = (attrs.get("properties") or {}).get("locale")
        if locale is not None and not isinstance(locale, str):
            raise serializers.ValidationError({"properties": "locale: give a language code such as fr or en-US."})
        return attrs


class AnswerRequestSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=128)
    score = serializers.IntegerField(required=False, min_value=-1000, max_value=1000)
    comment = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=5000)
    question = serializers.IntegerField(required=False, min_value=1, max_value=2**62)
    value = serializers.ListField(
        child=serializers.CharField(allow_blank=True, max_length=5000), required=False, max_length=50
    )

    def validate(self, attrs):
        given = [name for name in ("score", "comment", "question") if name in attrs]
        if len(given) != 1:
            raise serializers.ValidationError({"non_field_errors": "Send one of score, comment or question."})
        if "question" in attrs and "value" not in attrs:
            raise serializers.ValidationError({"value": "Give the answer to the question (a list, maybe empty)."})
        return attrs


class SurveyDecisionSerializer(serializers.Serializer):
    """The decision (documentation of the answer): a card to show, or why not."""

    show = serializers.BooleanField()
    reason = serializers.CharField(required=False, help_text="Why no card is shown, e.g. throttled.")
    token = serializers.CharField(required=False, help_text="Names the card in its answers; kept in memory only.")
    next_after = serializers.IntegerField(
        required=False, allow_null=True, help_text="Seconds before this browser asks again (null: never)."
    )
    survey = serializers.DictField(required=False, help_text="What the card shows: question, scores, wording.")


class AnswerRecordedSerializer(serializers.Serializer):
    recorded = serializers.BooleanField()
    score = serializers.IntegerField(required=False)
    ask_reason = serializers.BooleanField(required=False)
    questions = serializers.ListField(child=serializers.DictField(), required=False)


def _card(invitation: Invitation) -> dict:
    """What the card shows, in the invitation's locale: the respondent page's wording and scale."""
    survey, locale = invitation.survey, invitation.locale
    scale, words, brand = survey.scale, WORDING[locale], branding_for(survey.pk)
    thanks_link = invitation.properties.get("thank_you_link_url") or survey.thank_you_link_url
    return {
        "kind": survey.kind,
        "locale": locale,
        "question": typeset(survey.question(locale, invitation.properties.get("question_product_name", "")), locale),
        "scores": score_buttons(scale, locale, survey.end_labels(locale)),
        "low_label": survey.end_labels(locale)[0],
        "high_label": survey.end_labels(locale)[1],
        "color": brand.brand_color or DEFAULT_COLOR,
        "thank_you_message": invitation.properties.get("thank_you_message") or survey.thank_you(locale),
        "thank_you_link_url": thanks_link if str(thanks_link).startswith(("https://", "http://")) else "",
        "words": {
            name: typeset(text, locale)
            for name, text in (
                ("title", words["page_title"]),
                ("close", words["widget_close"]),
                ("reason", survey.reason_prompt(locale)),
                ("optional", words["comment_placeholder"]),
                ("next", words["next"]),
                ("skip", words["skip"]),
                ("recorded", words["recorded"]),
                ("thanks", words["thanks"]),
                ("thanks_link", words["thanks_link"]),
                ("choose_all", words["choose_all"]),
                ("question_of", words["question_of"]),
            )
        },
    }


def _question(question: Question, locale: str, ids: list[int]) -> dict:
    """One additional question for the card; `ids` are the survey's questions' in order, so that a condition on an
    earlier answer names that question by its id, as the card knows them."""
    condition = question.show_if_answer
    # A condition naming no question (its question deleted in the admin) holds for nobody, as on the page.
    named = ids[condition["question"]] if condition and condition["question"] < len(ids) else None
    return {
        "id": question.pk,
        "kind": question.kind,
        "text": typeset(question.text_in(locale), locale),
        "choices": [{"value": value, "label": label} for value, label in question.choice_labels(locale)],
        "scale_max": question.scale_max,
        "show_if": {"question": named, "values": condition["values"]} if condition else None,
    }


def _invalid(exc: ValidationError) -> exceptions.ValidationError:
    return exceptions.ValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    )


class WidgetEndpoint(APIView):
    """Public, keyed by the publishable key in the path, answered only to the key's allowed origins."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    allowed_origin = ""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if address_over_limit(
            scope="widget",
            address=request.META.get("REMOTE_ADDR", ""),
            per_minute=settings.WEB_WIDGET_RATE_LIMIT_PER_MINUTE,
        ):
            raise exceptions.Throttled(wait=60)
        key = kwargs.get("key", "")
        self.publishable_key = (
            PublishableKey.objects.select_related("survey").filter(key=key, revoked_at__isnull=True).first()
            if len(key) <= 40
            else None
        )
        if self.publishable_key is None:
            raise exceptions.NotFound("No such publishable key, or it was revoked.")
        try:
            origin = origin_normalize(request.META.get("HTTP_ORIGIN", ""))
        except ValueError:
            origin = ""
        if not origin or origin not in self.publishable_key.allowed_origins:
            raise exceptions.PermissionDenied("This site is not among the key's allowed origins.")
        self.allowed_origin = request.META["HTTP_ORIGIN"]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.allowed_origin:
            response["Access-Control-Allow-Origin"] = self.allowed_origin
            response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Content-Type"
            response["Access-Control-Max-Age"] = "600"
        patch_vary_headers(response, ["Origin"])
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(exclude=True)
    def options(self, request, *args, **kwargs):
        """The CORS preflight: allowed once `initial` accepted the origin."""
        return Response(status=204)


class WidgetSurveyApi(WidgetEndpoint):
    @extend_schema(
        operation_id="web_widget_survey",
        tags=["Web widget"],
        summary="Whether to show the key's survey to this visitor now, and the card to show",
        request=SurveyRequestSerializer,
        responses={200: SurveyDecisionSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, key: str):
        query = SurveyRequestSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        properties = data.get("properties") or {}
        period = data.get("recurringPeriod")
        try:
            decision = widget_decide(
                publishable_key=self.publishable_key,
                visitor=Visitor(
                    email=data.get("email") or "",
                    name=data.get("name", ""),
                    visitor_id=data.get("visitor", ""),
                    created_at=data.get("createdAt"),
                    locale=properties.get("locale") or "",
                    properties=properties,
                ),
                options=DisplayOptions(
                    sample_factor=data.get("sampleFactor"),
                    recurring_period_seconds=period if period is not False else None,
                    only_once=period is False,
                    initial_delay_seconds=data.get("initialDelay") or 0,
                    force_display=data.get("forceDisplay", False),
                ),
            )
        except ValidationError as exc:
            raise _invalid(exc) from None
        if decision.invitation is None:
            return Response({"show": False, "reason": decision.reason})
        if period is False:
            next_after = None
        else:
            next_after = period if period is not None else self.publishable_key.recurring_period_days * 86400
        return Response(
            {
                "show": True,
                "token": decision.token,
                # Seconds before the snippet asks for this key again in this browser (null: never again).
                "next_after": next_after,
                "survey": _card(decision.invitation),
            }
        )


class WidgetAnswerApi(WidgetEndpoint):
    @extend_schema(
        operation_id="web_widget_answer",
        tags=["Web widget"],
        summary="Record the card's score, its reason or an additional answer",
        request=AnswerRequestSerializer,
        responses={200: AnswerRecordedSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, key: str):
        query = AnswerRequestSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        try:
            invitation = widget_invitation(publishable_key=self.publishable_key, token=data["token"])
            if "score" in data:
                response, questions = widget_answer_score(invitation=invitation, score=data["score"])
                ids = [question.pk for question in invitation.survey.questions.all()]
                return Response(
                    {
                        "recorded": True,
                        "score": response.score,
                        "ask_reason": invitation.survey.asks_reason(response.score),
                        "questions": [_question(question, invitation.locale, ids) for question in questions],
                    }
                )
            if "comment" in data:
                widget_answer_comment(invitation=invitation, comment=data["comment"])
            else:
                widget_answer_question(invitation=invitation, question_id=data["question"], value=data["value"])
        except ValidationError as exc:
            raise _invalid(exc) from None
        return Response({"recorded": True})
