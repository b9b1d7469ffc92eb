"""The native configuration API at `/api/`: surveys, contacts, responses, routing rules, teams, users,
API keys and connectors. Parses, calls one `console.services` write (the console's pages call the same ones) or reads,
shapes JSON. Who may: an active manager signed in, or an API key with the `admin` scope; contacts and
responses are also readable with `responses:read`, and a key bound to a survey reads only that survey's
answers and the people invited to it. Bad input is a 400 naming each field.

Longer than 400 lines on purpose: one short serializer and viewset per configuration resource, all on the
shared audited-viewset plumbing and error translation at the top; a file per resource would import that
plumbing back eight times for ~50 lines each.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ERROR_RESPONSES
from console import services
from console.models import AuditEntry
from console.selectors import slack_choices
from feedback import routing_dry_run
from feedback.models import CannedReply, RootCause, RoutingRule, Team, User
from integrations.connectors import connector_test_delivery
from integrations.models import Connector
from integrations.serializers import (
    ConnectorCreatedSerializer,
    ConnectorDeliverySerializer,
    ConnectorSerializer,
    ZendeskCheckSerializer,
)
from integrations.zendesk import zendesk_credentials_check, zendesk_notes_retry_failed
from surveys.api import PropertiesField, TriggerRuleSerializer, json_storable
from surveys.authentication import IsAdminKey
from surveys.models import (
    AnswerChannel,
    ApiKey,
    Branding,
    Contact,
    Invitation,
    PublishableKey,
    Question,
    Survey,
    SurveyLink,
    TriggerRule,
)
from surveys.models import Response as SurveyResponse
from surveys.scales import SUPPORTED_LOCALES
from surveys.selectors import api_keys_with_batches, survey_link_of, survey_link_urls
from surveys.services.privacy import contact_erase, contact_export

ERRORS = {400: OpenApiResponse(description="Invalid input: `{message, errors: {field: [...]}}`")}
NO_LINK = {404: OpenApiResponse(description="No such survey, or the survey has no public link yet.")}


def _is_manager(request) -> bool:
    return isinstance(request.user, User) and request.user.is_active and request.user.is_manager


class IsManagerOrAdminKey(permissions.BasePermission):
    """An active manager signed in, or an API key with the admin scope."""

    message = "Managers only, or an API key with the admin scope."

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ApiKey):
            self.message = "This API key lacks the admin scope."
            return ApiKey.Scope.ADMIN in request.auth.scopes
        return _is_manager(request)


class CanReadResponses(IsManagerOrAdminKey):
    """As above; an API key with responses:read may also read."""

    def has_permission(self, request, view) -> bool:
        if (
            isinstance(request.auth, ApiKey)
            and request.method in permissions.SAFE_METHODS
            and ApiKey.Scope.RESPONSES_READ in request.auth.scopes
        ):
            return True
        return super().has_permission(request, view)


def _bound_survey_id(request) -> int | None:
    """The survey an API key is bound to (its default survey): every read of answers and people stays within
    it, whatever the parameters say. None for a person signed in, or a key bound to no survey."""
    return request.auth.survey_id if isinstance(request.auth, ApiKey) else None


def _actor(request) -> User | ApiKey:
    return request.auth if isinstance(request.auth, ApiKey) else request.user


def _call(write, **kwargs):
    try:
        return write(**kwargs)
    except ValidationError as exc:
        raise exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        ) from exc


class NewestFirst(CursorPagination):
    """Opaque `next`/`previous` links, stable while rows are added (no page drifts)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-pk"


class LocaleTextField(serializers.DictField):
    """Text per locale, e.g. `{"en": "…", "fr": "…"}`."""

    child = serializers.CharField(max_length=1000, allow_blank=True)

    def to_internal_value(self, data) -> dict:
        value = json_storable(super().to_internal_value(data))
        unknown = sorted(set(value) - set(SUPPORTED_LOCALES))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown locale {', '.join(unknown)}; use {', '.join(SUPPORTED_LOCALES)}."
            )
        return {locale: text for locale, text in value.items() if text.strip()}


# --- branding -----------------------------------------------------------------------------------


class BrandingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branding
        fields = list(services.BRANDING_FIELDS)


def _branding_answer(request, survey: Survey | None) -> Response:
    if request.method == "PATCH":
        serializer = BrandingSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        _call(services.branding_save, actor=_actor(request), survey=survey, **serializer.validated_data)
    return Response(BrandingSerializer(services.branding_get(survey=survey)).data)


@extend_schema(tags=["branding"])
class BrandingApi(APIView):
    """The workspace's branding: sender name and address, reply-to, logo, brand colour (white text on it must
    contrast 4.5:1), footer with the postal address, SMS signature."""

    permission_classes = [IsManagerOrAdminKey]

    @extend_schema(responses={200: BrandingSerializer})
    def get(self, request):
        return _branding_answer(request, None)

    @extend_schema(request=BrandingSerializer, responses={200: BrandingSerializer, **ERRORS})
    def patch(self, request):
        return _branding_answer(request, None)


# --- surveys ------------------------------------------------------------------------------------


class ChoiceSerializer(serializers.Serializer):
    """An option: its `value`, and its label in each shipped locale (one field per locale, `en`, `fr`…)."""

    value = serializers.CharField(max_length=100)

    def get_fields(self):
        fields = super().get_fields()
        for locale in SUPPORTED_LOCALES:
            fields[locale] = serializers.CharField(max_length=200, required=False, allow_blank=True)
        return fields


class AnswerConditionSerializer(serializers.Serializer):
    question = serializers.IntegerField(min_value=0, help_text="An earlier question's position in `questions`, from 0.")
    values = serializers.ListField(
        child=serializers.CharField(max_length=100),
        min_length=1,
        help_text="Its answers that ask this question: option values, `yes`/`no`, or scale numbers as text.",
    )


class QuestionSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False, help_text="Give it to change that question; leave out to add one.")
    text = LocaleTextField()
    choices = ChoiceSerializer(many=True, required=False, default=list)
    show_if_answer = AnswerConditionSerializer(
        required=False, allow_null=True, help_text="Asked only when an earlier question's answer is one of `values`."
    )

    class Meta:
        model = Question
        fields = [
            "id", "kind", "text", "choices", "scale_max", "show_if_score_min", "show_if_score_max", "show_if_answer",
        ]  # fmt: skip


class SurveyLinkSerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(
        max_length=40, required=False, help_text="The link is /l/<slug>/; left out when creating: one is made up."
    )
    url = serializers.SerializerMethodField(help_text="The public link.")
    kiosk_url = serializers.SerializerMethodField(help_text="The link in kiosk mode (when allowed).")
    qr_svg_url = serializers.SerializerMethodField(help_text="The link's QR code, SVG.")
    qr_png_url = serializers.SerializerMethodField(help_text="The link's QR code, PNG.")

    class Meta:
        model = SurveyLink
        fields = ["slug", "is_enabled", "kiosk_enabled", "ask_contact", "url", "kiosk_url", "qr_svg_url", "qr_png_url"]

    def get_url(self, link) -> str:
        return survey_link_urls(link)["url"]

    def get_kiosk_url(self, link) -> str:
        return survey_link_urls(link)["kiosk_url"]

    def get_qr_svg_url(self, link) -> str:
        return survey_link_urls(link)["qr_svg_url"]

    def get_qr_png_url(self, link) -> str:
        return survey_link_urls(link)["qr_png_url"]


class SurveyDefinitionSerializer(serializers.ModelSerializer):
    default_locale = serializers.ChoiceField(
        choices=SUPPORTED_LOCALES, required=False, help_text="The language whose texts stand in for one left empty."
    )
    question_text = LocaleTextField(required=False, default=dict, help_text="Per-locale question; empty: the kind's.")
    low_label = LocaleTextField(required=False, help_text="Per-locale label of the lowest score; empty: the kind's.")
    high_label = LocaleTextField(required=False, help_text="Per-locale label of the highest score; empty: the kind's.")
    thank_you_text = LocaleTextField(required=False, help_text="Per-locale thank-you message.")
    questions = QuestionSerializer(many=True, required=False, help_text="Additional questions, in order.")
    public_link = SurveyLinkSerializer(
        read_only=True, allow_null=True, help_text="The survey's public link and QR codes; null until created."
    )

    class Meta:
        model = Survey
        fields = [
            "id",
            "name",
            "kind",
            "product_name",
            "default_locale",
            "question_text",
            "low_label",
            "high_label",
            "thank_you_text",
            "thank_you_link_url",
            "reminder_after_days",
            "link_expiry_days",
            "fatigue_survey_days",
            "fatigue_global_days",
            "is_active",
            "is_fix_check",
            "questions",
            "public_link",
            "created_at",
        ]
        read_only_fields = ["id", "is_fix_check", "public_link", "created_at"]


@extend_schema(tags=["surveys"])
@extend_schema_view(
    create=extend_schema(responses={201: SurveyDefinitionSerializer, **ERRORS}),
    partial_update=extend_schema(responses={200: SurveyDefinitionSerializer, **ERRORS}),
)
class SurveyViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """Surveys and their additional questions; pause with `{"is_active": false}`."""

    permission_classes = [IsManagerOrAdminKey]
    serializer_class = SurveyDefinitionSerializer
    pagination_class = NewestFirst
    http_method_names = ["get", "post", "patch"]
    queryset = Survey.objects.select_related("public_link").prefetch_related(
        Prefetch("questions", queryset=Question.objects.order_by("position", "pk"))
    )

    def perform_create(self, serializer):
        serializer.instance = _call(services.survey_create, actor=_actor(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = _call(
            services.survey_update, actor=_actor(self.request), survey=serializer.instance, **serializer.validated_data
        )
        # The prefetched questions are the old ones.
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    @extend_schema(
        methods=["GET"], request=None, responses={200: BrandingSerializer}, summary="The survey's own branding"
    )
    @extend_schema(
        methods=["PATCH"],
        request=BrandingSerializer,
        responses={200: BrandingSerializer, **ERRORS},
        summary="Change the survey's own branding (empty fields take the workspace's)",
    )
    @action(detail=True, methods=["get", "patch"])
    def branding(self, request, pk=None):
        return _branding_answer(request, self.get_object())

    @extend_schema(methods=["GET"], request=None, responses={200: SurveyLinkSerializer, **NO_LINK},
                   summary="The survey's public link and QR codes")  # fmt: skip
    @extend_schema(
        methods=["PATCH"],
        request=SurveyLinkSerializer,
        responses={200: SurveyLinkSerializer, 201: SurveyLinkSerializer, **ERRORS},
        summary="Create the survey's public link (201) or change it: slug, is_enabled, kiosk_enabled, ask_contact",
    )
    @action(detail=True, methods=["get", "patch"])
    def link(self, request, pk=None):
        survey = self.get_object()
        if request.method == "GET":
            link = survey_link_of(survey_id=survey.pk)
            if link is None:
                raise exceptions.NotFound("This survey has no public link yet: PATCH creates it.")
            return Response(SurveyLinkSerializer(link).data)
        serializer = SurveyLinkSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        link, created = _call(services.survey_link_change, actor=_actor(request), survey=survey,
                              **serializer.validated_data)  # fmt: skip
        answer = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(SurveyLinkSerializer(link).data, status=answer)

    @extend_schema(request=None, responses={201: SurveyDefinitionSerializer})
    @action(detail=True, methods=["post"])
    def duplicate(self, request, pk=None):
        """A paused copy with the same questions, named "… (copy)"."""
        copy = services.survey_duplicate(actor=_actor(request), survey=self.get_object())
        return Response(
            SurveyDefinitionSerializer(self.get_queryset().get(pk=copy.pk)).data, status=status.HTTP_201_CREATED
        )


# --- contacts and responses ---------------------------------------------------------------------


class ContactRecordSerializer(serializers.ModelSerializer):
    properties = PropertiesField(required=False)

    class Meta:
        model = Contact
        fields = [
            "id", "email", "phone", "name", "locale", "timezone", "external_id", "properties", "created_at",
            "erased_at",
        ]  # fmt: skip
        read_only_fields = fields


class ErasureQuerySerializer(serializers.Serializer):
    hard = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Delete their answers too and uncount them (default: kept as "
        "anonymous scores, so figures stay true).",
    )
    suppress = serializers.BooleanField(
        required=False,
        default=False,
        help_text="They asked never to be contacted again: a keyed hash of their "
        "addresses keeps them out of every future survey.",
    )


class ErasureResultSerializer(serializers.Serializer):
    contact = serializers.IntegerField(source="contact_id")
    mode = serializers.ChoiceField(choices=["anonymised", "hard"])
    rows = serializers.DictField(child=serializers.IntegerField(), help_text="Rows erased or anonymised, by kind.")


class ContactQuerySerializer(serializers.Serializer):
    email = serializers.EmailField(required=False)
    phone = serializers.CharField(required=False, max_length=20)
    external_id = serializers.CharField(required=False, max_length=200)


@extend_schema(tags=["contacts"])
@extend_schema_view(list=extend_schema(parameters=[ContactQuerySerializer]))
class ContactViewSet(mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Contacts, newest first; filter by email, phone or external id. Contacts arrive with events.

    A person's rights (docs/privacy.md): `DELETE` erases them, `GET …/export/` gives everything stored about
    them; both need a manager or the admin scope, and both are recorded in the audit trail."""

    permission_classes = [CanReadResponses]
    serializer_class = ContactRecordSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        contacts = Contact.objects.all()
        # The list's filters; a contact's own page, its erasure and its export are found by id alone.
        if self.action == "list":
            query = ContactQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            filters = {name: value for name, value in query.validated_data.items()}
            if "email" in filters:
                filters["email"] = filters["email"].lower()
            contacts = contacts.filter(**filters)
        if (survey_id := _bound_survey_id(self.request)) is not None:
            # A key bound to a survey knows the people invited to it, as on /v1/people.
            contacts = contacts.filter(
                Exists(Invitation.objects.filter(contact_id=OuterRef("pk"), survey_id=survey_id))
            )
        return contacts

    @extend_schema(
        parameters=[ErasureQuerySerializer],
        responses={200: ErasureResultSerializer, **ERRORS},
        summary="Erase a person: every trace of them, in one transaction (GDPR art. 17)",
    )
    def destroy(self, request, pk=None):
        """Their contact, events' properties, messages, SMS and emails, webhook payloads, case threads and notes,
        comments and what was read in them go; their answers stay as anonymous scores unless `hard=true`.
        Twilio's copies of their SMS are deleted after the erasure commits."""
        query = ErasureQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = contact_erase(
            contact=self.get_object(),
            hard=query.validated_data["hard"],
            keep_out=query.validated_data["suppress"],
            actor=_actor(request),
        )
        return Response(ErasureResultSerializer(result).data)

    @extend_schema(
        request=None,
        responses={200: OpenApiResponse(description="Everything stored about the person, as JSON")},
        summary="Export everything stored about a person (GDPR art. 15)",
    )
    @action(detail=True, methods=["get"], permission_classes=[IsManagerOrAdminKey])
    def export(self, request, pk=None):
        """The contact, their events, invitations, answers (with notes), the messages sent to them and theirs to
        us, suppressions, cases with their threads, webhook deliveries about them and Autopilot memberships."""
        data = contact_export(contact=self.get_object(), actor=_actor(request))
        filename = f"contact-{data['contact']['id']}.json"
        return Response(data, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class AnswerSerializer(serializers.Serializer):
    question = serializers.IntegerField(source="question_id")
    value = serializers.JSONField()
    language = serializers.CharField(allow_null=True, source="analysed_language")
    sentiment = serializers.CharField(allow_null=True, source="analysed_sentiment")
    sentiment_confidence = serializers.FloatField(allow_null=True)
    themes = serializers.ListField(child=serializers.CharField())


class ResponseSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="invitation.channel")
    locale = serializers.CharField(source="invitation.locale")
    event_type = serializers.SerializerMethodField()
    answers = AnswerSerializer(many=True)
    # What insights read in the comment; null until it is read (within a minute of the answer).
    language = serializers.CharField(allow_null=True, source="analysed_language", help_text="en or fr.")
    sentiment = serializers.ChoiceField(
        choices=["positive", "neutral", "negative"], allow_null=True, source="analysed_sentiment"
    )
    sentiment_confidence = serializers.FloatField(allow_null=True, help_text="0.5 to 0.99.")
    themes = serializers.ListField(child=serializers.CharField(), help_text="Theme slugs; [] is other.")

    class Meta:
        model = SurveyResponse
        fields = [
            "id", "survey", "contact", "score", "comment", "tags", "channel", "locale", "event_type", "answers",
            "language", "sentiment", "sentiment_confidence", "themes", "confirmed_at", "updated_at",
        ]  # fmt: skip

    def get_event_type(self, response) -> str | None:
        event = response.invitation.event
        return event.type if event else None


ID_MAX = 2**63 - 1  # the database's bigint: a larger id would be an overflow, not "no such row"


class ResponseQuerySerializer(serializers.Serializer):
    survey = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX)
    contact = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX)
    channel = serializers.ChoiceField(choices=AnswerChannel.choices, required=False)
    score_min = serializers.IntegerField(required=False, min_value=-1000, max_value=1000)
    score_max = serializers.IntegerField(required=False, min_value=-1000, max_value=1000)
    has_comment = serializers.BooleanField(required=False, allow_null=True, default=None)
    since = serializers.DateTimeField(required=False, help_text="Confirmed at or after (ISO 8601).")
    until = serializers.DateTimeField(required=False, help_text="Confirmed before (ISO 8601).")
    language = serializers.ChoiceField(choices=["en", "fr"], required=False, help_text="Language of the comment.")
    sentiment = serializers.ChoiceField(choices=["positive", "neutral", "negative"], required=False)
    theme = serializers.RegexField(
        r"^[a-z0-9_]{1,50}$", required=False, help_text="A theme slug, or other for read comments with no theme."
    )


@extend_schema(tags=["responses"], parameters=[ResponseQuerySerializer])
class ResponseViewSet(viewsets.ReadOnlyModelViewSet):
    """Answers, newest first, with their additional answers; cursor-paged."""

    permission_classes = [CanReadResponses]
    serializer_class = ResponseSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        # Held answers (a machine's, awaiting confirmation: surveys.scanners) are nobody's to read yet.
        queryset = (
            SurveyResponse.objects.filter(held_reason="")
            .select_related("invitation__event")
            .prefetch_related("answers")
        )
        if (survey_id := _bound_survey_id(self.request)) is not None:
            # Detail and list alike; `?survey=` below narrows within the key's survey, never widens past it.
            queryset = queryset.filter(survey_id=survey_id)
        if self.action != "list":
            return queryset
        query = ResponseQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        lookups = {
            "survey": "survey_id",
            "contact": "contact_id",
            "channel": "invitation__channel",
            "score_min": "score__gte",
            "score_max": "score__lte",
            "since": "confirmed_at__gte",
            "until": "confirmed_at__lt",
        }
        queryset = queryset.filter(**{lookups[name]: value for name, value in data.items() if name in lookups})
        if data["has_comment"] is not None:
            queryset = queryset.exclude(comment="") if data["has_comment"] else queryset.filter(comment="")
        if "language" in data:
            queryset = queryset.filter(language=data["language"])
        if "sentiment" in data:
            queryset = queryset.filter(sentiment=data["sentiment"])
        if data.get("theme") == "other":
            queryset = queryset.exclude(comment="").filter(analysed_at__isnull=False, themes=[])
        elif "theme" in data:
            # JSON text of the slug with its quotes: exact slugs only, on SQLite and PostgreSQL alike.
            queryset = queryset.filter(themes__icontains=f'"{data["theme"]}"')
        return queryset


# --- routing rules, teams, root causes ----------------------------------------------------------


class RoutingRuleSerializer(serializers.ModelSerializer):
    contact_properties = PropertiesField(required=False)
    event_properties = PropertiesField(required=False)

    class Meta:
        model = RoutingRule
        fields = [
            "id", "position", "survey", "kind", "score_min", "score_max", "comment_contains", "comment_is_empty",
            "theme", "sentiment", "contact_properties", "event_properties", "opens_follow_up", "team", "priority",
            "sla_hours", "assignment", "assignee_property", "fix_check_survey", "is_active",
        ]  # fmt: skip

    def validate_theme(self, value: str) -> str:
        from insights.models import Theme

        if value and not Theme.objects.filter(slug=value).exists():
            raise serializers.ValidationError(f"No theme “{value}”: see GET /api/themes/.")
        return value


class AuditedViewSet(viewsets.ModelViewSet):
    permission_classes = [IsManagerOrAdminKey]
    http_method_names = ["get", "post", "patch", "delete"]

    def perform_create(self, serializer):
        serializer.instance = _call(self.save, actor=_actor(self.request), obj=None, data=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = _call(
            self.save, actor=_actor(self.request), obj=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        # Not `self.delete`: DRF's router binds the HTTP method name `delete` to `destroy` on the instance.
        _call(self.remove, actor=_actor(self.request), obj=instance)


@extend_schema(tags=["trigger rules"])
class TriggerRuleViewSet(viewsets.ModelViewSet):
    """Trigger rules: which events invite whom to which survey, how and when (admin scope). Each write is the
    console's own (`trigger_rule_save`), so it is recorded in the audit trail like a change made in the console."""

    permission_classes = [IsAdminKey]
    serializer_class = TriggerRuleSerializer
    queryset = TriggerRule.objects.order_by("pk")

    def perform_create(self, serializer):
        serializer.instance = _call(services.trigger_rule_save, actor=_actor(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = _call(
            services.trigger_rule_save,
            actor=_actor(self.request),
            rule=serializer.instance,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance):
        services.trigger_rule_delete(actor=_actor(self.request), rule=instance)


class RoutingDryRunSerializer(serializers.Serializer):
    """An answer to try the routing rules on; nothing is stored."""

    survey = serializers.PrimaryKeyRelatedField(queryset=Survey.objects.all())
    score = serializers.IntegerField(min_value=-1000, max_value=1000, help_text="Within the survey's scale.")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    contact_properties = PropertiesField(required=False, default=dict)
    event_properties = PropertiesField(required=False, default=dict)
    themes = serializers.ListField(
        child=serializers.RegexField(r"^[a-z0-9_]{1,50}$"),
        required=False,
        default=list,
        max_length=50,
        help_text="Theme slugs read in the comment (a real answer's are read within a minute).",
    )
    sentiment = serializers.ChoiceField(
        choices=["positive", "neutral", "negative"], required=False, allow_blank=True, default=""
    )


class RoutingCheckSerializer(serializers.Serializer):
    condition = serializers.CharField(help_text='In words, e.g. "score is 0–6".')
    holds = serializers.BooleanField()


class RoutingVerdictSerializer(serializers.Serializer):
    rule = serializers.IntegerField(source="rule.pk")
    position = serializers.IntegerField(source="rule.position")
    matches = serializers.BooleanField(help_text="The rule is on and every condition holds.")
    decides = serializers.BooleanField(help_text="The first rule that matches: what routing does with the answer.")
    outcome = serializers.CharField(help_text="What the rule does with an answer it decides.")
    checks = RoutingCheckSerializer(many=True)


class RoutingDryRunResultSerializer(serializers.Serializer):
    decided_by = serializers.IntegerField(source="decided_by.pk", allow_null=True, default=None)
    opens_follow_up = serializers.BooleanField()
    summary = serializers.CharField()
    rules = RoutingVerdictSerializer(many=True, source="verdicts")


@extend_schema(tags=["routing rules"])
class RoutingRuleViewSet(AuditedViewSet):
    """What to do with answers, in `position` order: the first matching rule wins."""

    serializer_class = RoutingRuleSerializer
    queryset = RoutingRule.objects.order_by("position", "pk")

    def save(self, *, actor, obj, data):
        return services.routing_rule_save(actor=actor, rule=obj, **data)

    def remove(self, *, actor, obj):
        services.routing_rule_delete(actor=actor, rule=obj)

    @extend_schema(
        request=RoutingDryRunSerializer,
        responses={200: RoutingDryRunResultSerializer, **ERRORS},
        summary="Which rules an answer would match, and why, and which one decides (nothing is stored)",
    )
    @action(detail=False, methods=["post"], url_path="dry-run")
    def dry_run(self, request):
        serializer = RoutingDryRunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        facts = _call(routing_dry_run.routing_answer_facts, **serializer.validated_data)
        return Response(RoutingDryRunResultSerializer(routing_dry_run.routing_rules_dry_run(facts=facts)).data)


class CannedReplySerializer(serializers.ModelSerializer):
    class Meta:
        model = CannedReply
        fields = ["id", "team", "locale", "title", "body", "is_active", "created_at"]
        read_only_fields = ["id", "created_at"]
        # The service checks the title's uniqueness (per team and language, whatever its case) with a clear message.
        validators = []


class CannedReplyQuerySerializer(serializers.Serializer):
    team = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX)


@extend_schema(tags=["teams"], parameters=[CannedReplyQuerySerializer])
class CannedReplyViewSet(AuditedViewSet):
    """Teams' canned replies, by team, language and title; filter with `team`."""

    serializer_class = CannedReplySerializer

    def get_queryset(self):
        replies = CannedReply.objects.order_by("team_id", "locale", "title", "pk")
        if self.action != "list":
            return replies
        query = CannedReplyQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return replies.filter(team_id=query.validated_data["team"]) if "team" in query.validated_data else replies

    def save(self, *, actor, obj, data):
        return services.canned_reply_change(actor=actor, canned=obj, **data)

    def remove(self, *, actor, obj):
        services.canned_reply_delete(actor=actor, canned=obj)


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=User.objects.all(), help_text="Ids of the team's people."
    )
    holidays = serializers.ListField(child=serializers.DateField(), required=False)

    class Meta:
        model = Team
        fields = [
            "id", "name", "sla_hours", "time_zone", "working_days", "opens_at", "closes_at", "holidays", "lead",
            "slack_webhook_url", "slack_channel_id", "slack_channel_name", "assignment", "members",
        ]  # fmt: skip
        read_only_fields = ["slack_channel_name"]
        extra_kwargs = {
            "slack_channel_id": {"help_text": "A channel id from /api/slack-channels/ (needs SLACK_BOT_TOKEN)."}
        }


@extend_schema(tags=["teams"])
class TeamViewSet(AuditedViewSet):
    """Teams: their people, working calendar (the SLA clock), holidays, assignment strategy and Slack channel."""

    serializer_class = TeamSerializer
    queryset = Team.objects.order_by("name").prefetch_related("members")

    def save(self, *, actor, obj, data):
        return services.team_save(actor=actor, team=obj, **data)

    def remove(self, *, actor, obj):
        services.team_delete(actor=actor, team=obj)


class SlackChannelSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    is_private = serializers.BooleanField()


class SlackChannelListSerializer(serializers.Serializer):
    channels = SlackChannelSerializer(many=True)


@extend_schema(tags=["teams"])
class SlackChannelsApi(APIView):
    """The Slack channels a team may pick (`slack_channel_id`): every page of Slack's `conversations.list` for the
    workspace's bot token, by name. 409 without a bot token (a team then posts through an incoming webhook,
    which has no channel to pick); 502 when Slack refuses or cannot be reached, saying why."""

    permission_classes = [IsManagerOrAdminKey]

    @extend_schema(
        responses={
            200: SlackChannelListSerializer,
            409: OpenApiResponse(description="No SLACK_BOT_TOKEN: nothing to list."),
            502: OpenApiResponse(description="Slack refused or could not be reached: `detail` says why."),
        }
    )
    def get(self, request):
        choices = slack_choices()
        if not choices.uses_bot:
            detail = "Closeloop lists Slack channels with a bot token (SLACK_BOT_TOKEN), and none is set."
            return Response({"detail": detail}, status=status.HTTP_409_CONFLICT)
        if choices.problem:
            return Response({"detail": choices.problem}, status=status.HTTP_502_BAD_GATEWAY)
        return Response(SlackChannelListSerializer({"channels": choices.channels}).data)


class RootCauseSerializer(serializers.ModelSerializer):
    class Meta:
        model = RootCause
        fields = ["id", "name", "is_active", "outside_agent_control"]


@extend_schema(tags=["root causes"])
class RootCauseViewSet(AuditedViewSet):
    """Root causes agents pick when they resolve a case; retire one with `{"is_active": false}`."""

    serializer_class = RootCauseSerializer
    queryset = RootCause.objects.order_by("name")
    http_method_names = ["get", "post", "patch"]

    def save(self, *, actor, obj, data):
        return services.root_cause_save(actor=actor, root_cause=obj, **data)


# --- people -------------------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = [
            "id", "email", "first_name", "last_name", "role", "team", "is_active", "is_away", "language",
            "last_login",
            "date_joined",
        ]  # fmt: skip
        read_only_fields = ["id", "last_login", "date_joined"]
        # An invitation names the role (the model's default would reach user_invite as a missing argument: a 500).
        extra_kwargs = {"role": {"required": True}}


@extend_schema(tags=["users"])
@extend_schema_view(create=extend_schema(summary="Invite someone: they get an email with a link to set a password"))
class UserViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """People who sign in: invite (POST), change role, team or language (`""`: their browser's), deactivate with
    `{"is_active": false}`."""

    permission_classes = [IsManagerOrAdminKey]
    serializer_class = UserSerializer
    queryset = User.objects.order_by("email")
    http_method_names = ["get", "post", "patch"]

    def perform_create(self, serializer):
        # Someone invited can sign in and is not away: both are changed afterwards (a form post sends them as false).
        data = {k: v for k, v in serializer.validated_data.items() if k not in ("is_active", "is_away")}
        serializer.instance = _call(services.user_invite, actor=_actor(self.request), **data)

    def perform_update(self, serializer):
        serializer.instance = _call(
            services.user_update, actor=_actor(self.request), user=serializer.instance, **serializer.validated_data
        )


# --- API keys -----------------------------------------------------------------------------------


class ApiKeySerializer(serializers.ModelSerializer):
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiKey.Scope.choices), min_length=1)
    batches_waiting = serializers.IntegerField(
        read_only=True, default=0, help_text="Staged event batches still waiting for a worker."
    )
    batches_waiting_since = serializers.DateTimeField(
        read_only=True, default=None, help_text="When the oldest of them was accepted."
    )
    batches_failed = serializers.IntegerField(
        read_only=True, default=0, help_text="Staged event batches a worker could not expand (kept 7 days)."
    )

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "survey",
            "created_at",
            "last_used_at",
            "revoked_at",
            "batches_waiting",
            "batches_waiting_since",
            "batches_failed",
        ]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The key itself: shown this once, never again.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


@extend_schema(tags=["API keys"])
class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """API keys: create (the key is in that answer only), list with last use, revoke."""

    permission_classes = [IsManagerOrAdminKey]
    serializer_class = ApiKeySerializer
    queryset = api_keys_with_batches().order_by("-pk")

    @extend_schema(request=ApiKeySerializer, responses={201: ApiKeyCreatedSerializer, **ERRORS})
    def create(self, request):
        serializer = ApiKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, raw = _call(services.console_api_key_create, actor=_actor(request), **serializer.validated_data)
        api_key.key = raw
        return Response(ApiKeyCreatedSerializer(api_key).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ApiKeySerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Refused from its next request on; a revoked key stays listed."""
        api_key = services.console_api_key_revoke(actor=_actor(request), api_key=self.get_object())
        return Response(ApiKeySerializer(api_key).data)


# --- web widget keys ----------------------------------------------------------------------------


class PublishableKeySerializer(serializers.ModelSerializer):
    allowed_origins = serializers.ListField(
        child=serializers.CharField(max_length=300),
        min_length=1,
        max_length=20,
        help_text='The sites that may show the widget, e.g. ["https://app.example.com"].',
    )
    sample_factor = serializers.FloatField(min_value=0, max_value=1, required=False)
    recurring_period_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    snippet = serializers.SerializerMethodField(help_text="The HTML to paste into the allowed sites' pages.")

    class Meta:
        model = PublishableKey
        fields = [
            "id",
            "name",
            "key",
            "survey",
            "allowed_origins",
            "sample_factor",
            "recurring_period_days",
            "snippet",
            "created_at",
            "revoked_at",
        ]
        read_only_fields = ["id", "key", "created_at", "revoked_at"]

    def get_snippet(self, publishable_key: PublishableKey) -> str:
        return f'<script src="{settings.SITE_URL}/web/snippet.js" data-key="{publishable_key.key}"></script>'


@extend_schema(tags=["Web widget"])
@extend_schema_view(
    create=extend_schema(responses={201: PublishableKeySerializer, **ERRORS}),
    partial_update=extend_schema(responses={200: PublishableKeySerializer, **ERRORS}),
)
class PublishableKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Web widget keys: create (public, so shown on every read), change origins and defaults, revoke."""

    permission_classes = [IsManagerOrAdminKey]
    serializer_class = PublishableKeySerializer
    queryset = PublishableKey.objects.select_related("survey").order_by("-pk")
    http_method_names = ["get", "post", "patch"]

    def perform_create(self, serializer):
        serializer.instance = _call(
            services.console_publishable_key_create, actor=_actor(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = _call(
            services.console_publishable_key_update,
            actor=_actor(self.request),
            publishable_key=serializer.instance,
            **serializer.validated_data,
        )

    @extend_schema(request=None, responses={200: PublishableKeySerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Pages that carry a revoked key show nothing from their next call on."""
        publishable_key = services.console_publishable_key_revoke(
            actor=_actor(request), publishable_key=self.get_object()
        )
        return Response(PublishableKeySerializer(publishable_key).data)


# --- audit trail --------------------------------------------------------------------------------


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "actor",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "created_at",
        ]


@extend_schema(tags=["audit trail"])
class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """Every configuration change, newest first: who, what, each field before → after."""

    permission_classes = [IsManagerOrAdminKey]
    serializer_class = AuditEntrySerializer
    pagination_class = NewestFirst
    queryset = AuditEntry.objects.all()


# --- connectors ---------------------------------------------------------------------------------


@extend_schema(tags=["connectors"])
class ConnectorViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Connectors: addresses Shopify, Zendesk, Stripe or any signed webhook post to (docs/connectors/); their
    writes are in the audit trail, secrets hidden."""

    permission_classes = [IsManagerOrAdminKey]
    serializer_class = ConnectorSerializer
    queryset = Connector.objects.order_by("pk")
    http_method_names = ["get", "post", "patch", "delete"]

    def _save(self, connector: Connector | None, data: dict) -> Connector:
        return _call(services.connector_save, actor=_actor(self.request), connector=connector, **data)

    @extend_schema(responses={201: ConnectorCreatedSerializer, **ERROR_RESPONSES})
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        connector = self._save(None, serializer.validated_data)
        return Response(ConnectorCreatedSerializer(connector).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: ConnectorSerializer, **ERROR_RESPONSES})
    def partial_update(self, request, pk=None):
        connector = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return Response(self.get_serializer(self._save(connector, serializer.validated_data)).data)

    def perform_destroy(self, instance):
        services.connector_delete(actor=_actor(self.request), connector=instance)

    @extend_schema(responses={200: ConnectorDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The connector's delivery log, newest first: what each verified delivery became, or why nothing."""
        connector = self.get_object()
        paginator = NewestFirst()
        page = paginator.paginate_queryset(connector.deliveries.all(), request, view=self)
        return paginator.get_paginated_response(ConnectorDeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={201: ConnectorDeliverySerializer})
    @action(detail=True, methods=["post"], url_path="test-delivery")
    def test_delivery(self, request, pk=None):
        """Sign a sample delivery of the source with the connector's secret and run it through verification,
        mapping and the trigger rules; it is logged as a test, nothing is ingested or sent."""
        delivery = connector_test_delivery(connector=self.get_object())
        return Response(ConnectorDeliverySerializer(delivery).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ZendeskCheckSerializer})
    @action(detail=True, methods=["post"], url_path="check-zendesk")
    def check_zendesk(self, request, pk=None):
        """Try the Zendesk address, agent and token (`GET /api/v2/users/me.json`); nothing is written."""
        ok, message = zendesk_credentials_check(connector=self.get_object())
        return Response({"ok": ok, "message": message})

    @extend_schema(request=None, responses={200: ConnectorSerializer})
    @action(detail=True, methods=["post"], url_path="retry-zendesk-notes")
    def retry_zendesk_notes(self, request, pk=None):
        """Try the failed notes again, once the token or the address is fixed; answers the connector."""
        connector = self.get_object()
        zendesk_notes_retry_failed(connector=connector)
        return Response(self.get_serializer(connector).data)
