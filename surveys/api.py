"""The native intake API: events (one or a batch), trigger rules; Bearer API keys with scopes.

Longer than 400 lines on purpose: the event input is validated on a fast path (`_plain_validation`) that
must give exactly the serializer's answers, so both live beside the serializers they mirror.
"""

import functools
import hashlib
import json
import re
import zoneinfo
from collections.abc import Callable
from datetime import datetime, timedelta

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import (
    EmailValidator,
    MaxLengthValidator,
    ProhibitNullCharactersValidator,
    RegexValidator,
    URLValidator,
)
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.fields import empty
from rest_framework.response import Response
from rest_framework.validators import ProhibitSurrogateCharactersValidator
from rest_framework.views import APIView

from config.api import _flatten
from surveys.authentication import CanWriteEvents
from surveys.conditions import conditions_errors
from surveys.models import THANK_YOU_MAX_LENGTH, EventBatch, Survey, TriggerRule
from surveys.selectors import event_batch_get
from surveys.services.batches import event_batch_accept
from surveys.services.contacts import ContactData
from surveys.services.idempotency import (
    IdempotencyConflict,
    IdempotencyInFlight,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
)
from surveys.services.ingest import EventData, IngestResult, event_ingest, events_ingest
from surveys.services.trigger_rules import trigger_rule_channel_problem

BATCH_LIMIT = 1000
EMAIL_MAX = 254  # RFC 5321's longest path, and the column's size (PostgreSQL refuses longer: a 500 before)
THANK_YOU_MESSAGE_MAX = THANK_YOU_MAX_LENGTH
PRODUCT_NAME_MAX = Survey._meta.get_field("product_name").max_length
LOCALE_RE = re.compile(r"^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*$")
LOCALE_MAX = 10
# Control characters (C0, DEL, C1) have no business in a name shown in an email or on a page.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def text_error(value, *, max_length: int, multiline: bool = False) -> str | None:
    """Why `value` is not a text intake may store and later render (type, length, characters), or None."""
    if not isinstance(value, str):
        return "Give a text."
    if len(value) > max_length:
        return f"Give a text of at most {max_length} characters."
    if (_CONTROL_MULTILINE_RE if multiline else _CONTROL_RE).search(value):
        return "Control characters are not allowed."
    return None


def locale_error(value) -> str | None:
    if not isinstance(value, str):
        return "Give a language code such as en or fr-CA."
    if value and (len(value) > LOCALE_MAX or not LOCALE_RE.match(value)):
        return "Give a language code such as en or fr-CA."
    return None


@functools.cache
def _time_zones() -> frozenset[str]:
    # Listing the zones reads the whole tz database from disk; once per process is enough.
    return frozenset(zoneinfo.available_timezones())


def contains_nul(value) -> bool:
    """Whether a string, or any key or string within a JSON value, holds U+0000."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


def json_storable(value):
    """PostgreSQL's text and jsonb refuse the NUL character: refuse it here, as DRF's CharField does."""
    if contains_nul(value):
        raise serializers.ValidationError("Null characters are not allowed.")
    return value


class PropertiesField(serializers.DictField):
    """Free-form properties (any JSON object) that can be stored."""

    def to_internal_value(self, data) -> dict:
        return json_storable(super().to_internal_value(data))


class ContactInputSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True, default="", max_length=EMAIL_MAX)
    phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    locale = serializers.CharField(required=False, allow_blank=True, default="", max_length=10)
    timezone = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    external_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    properties = PropertiesField(required=False, default=dict)

    def validate_phone(self, value: str) -> str:
        if not value:
            return value
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException as exc:
            raise serializers.ValidationError("Enter a phone number in E.164 form, e.g. +14155550100.") from exc
        if not phonenumbers.is_valid_number(number):
            raise serializers.ValidationError("This phone number is not valid.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def validate_name(self, value: str) -> str:
        if error := text_error(value, max_length=200):
            raise serializers.ValidationError(error)
        return value

    def validate_locale(self, value: str) -> str:
        if error := locale_error(value):
            raise serializers.ValidationError(error)
        return value

    def validate_timezone(self, value: str) -> str:
        if value and value not in _time_zones():
            raise serializers.ValidationError("Unknown time zone; use an IANA name such as Europe/Paris.")
        return value

    def validate(self, attrs: dict) -> dict:
        if not (attrs["email"] or attrs["phone"] or attrs["external_id"]):
            raise serializers.ValidationError("Give at least an email, a phone number or an external id.")
        return attrs


class InvitationPropertiesField(PropertiesField):
    """Properties an invitation keeps; those the respondent's page, the email or the SMS show are checked here.

    `question_product_name` and `locale` are rendered into every message and page of the invitation: each
    is a text of the stored size without control characters (a `{"a": 1}` stored here once stopped the
    dispatcher's whole batch).

    `thank_you_link_url` becomes a link on our own page, so only http(s) addresses are taken
    (never `javascript:` or `data:`); `thank_you_message` is text, as long as a survey's.
    """

    link_validator = URLValidator(schemes=["http", "https"], message="Enter an http:// or https:// address.")

    def to_internal_value(self, data) -> dict:
        properties = super().to_internal_value(data)
        errors = {}
        link = properties.get("thank_you_link_url")
        if link not in (None, ""):
            try:
                self.link_validator(link if isinstance(link, str) else "")
            except DjangoValidationError as exc:
                errors["thank_you_link_url"] = exc.messages
        message = properties.get("thank_you_message")
        if message is not None and (error := text_error(message, max_length=THANK_YOU_MESSAGE_MAX, multiline=True)):
            errors["thank_you_message"] = [error]
        product = properties.get("question_product_name")
        if product is not None and (error := text_error(product, max_length=PRODUCT_NAME_MAX)):
            errors["question_product_name"] = [error]
        locale = properties.get("locale")
        if locale is not None and (error := locale_error(locale)):
            errors["locale"] = [error]
        if errors:
            raise serializers.ValidationError(errors)
        return properties


class EventInputSerializer(serializers.Serializer):
    type = serializers.RegexField(r"^[a-z0-9_.:-]+$", max_length=100)
    external_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    occurred_at = serializers.DateTimeField(required=False, default=None)
    contact = ContactInputSerializer()
    properties = InvitationPropertiesField(required=False, default=dict)


class BatchInputSerializer(serializers.Serializer):
    # Items are validated one by one in the view, so one bad event does not reject the others.
    events = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=BATCH_LIMIT)


class ScheduledInvitationSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="invitation.public_id")
    trigger_rule = serializers.IntegerField(source="trigger_rule_id", allow_null=True)
    survey = serializers.CharField(source="invitation.survey.name")
    channel = serializers.CharField(source="invitation.channel")
    scheduled_at = serializers.DateTimeField(source="invitation.scheduled_at")
    expires_at = serializers.DateTimeField(source="invitation.expires_at")


class SkippedSerializer(serializers.Serializer):
    trigger_rule = serializers.IntegerField(source="trigger_rule_id", allow_null=True)
    reason = serializers.ChoiceField(
        source="skipped", choices=["throttled", "opted_out", "no_channel", "sampled_out", "no_rule", "duplicate"]
    )


class EventResultSerializer(serializers.Serializer):
    event_id = serializers.IntegerField(source="event.pk")
    duplicate = serializers.BooleanField()
    scheduled = ScheduledInvitationSerializer(many=True)
    skipped = SkippedSerializer(many=True)
    cancelled = serializers.SerializerMethodField()

    def get_cancelled(self, result) -> list[str]:
        return [str(invitation.public_id) for invitation in result.cancelled]


class BatchItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.IntegerField(help_text="201 scheduled or skipped, 200 duplicate, 400 invalid.")
    result = EventResultSerializer(required=False)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class BatchResultSerializer(serializers.Serializer):
    results = BatchItemResultSerializer(many=True)


class StagedBatchSerializer(serializers.Serializer):
    """What `POST /api/events/batches/` answers (202) and `GET /api/events/batches/<id>/` reads."""

    id = serializers.UUIDField(source="public_id")
    url = serializers.URLField()
    status = serializers.ChoiceField(
        choices=EventBatch.Status.choices,
        help_text="`accepted` until a worker has ingested its events, then `expanded`; `failed` after its last try.",
    )
    size = serializers.IntegerField(help_text="Items in the request, refused ones included.")
    refused = serializers.IntegerField(help_text="Items validation refused (status 400 in `results`).")
    accepted_at = serializers.DateTimeField()
    expanded_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(help_text="Why its last try to expand it failed; empty if none did.")
    results = BatchItemResultSerializer(
        many=True, help_text="One per item once expanded; until then, the refused items'."
    )


# Built once per process and shared by every request: building a serializer's fields costs more than
# validating an event, and a serializer given neither data nor instance keeps no state between calls.
EVENT_INPUT = EventInputSerializer()


class _NotPlain(Exception):
    """A value the plain pass does not vouch for: the serializer decides, and words any error."""


# DRF's check for surrogates walks a string character by character in Python; this search is the same test.
_SURROGATES = re.compile("[\ud800-\udfff]")


class _PlainEmail:
    """`EmailValidator.__call__` as a yes or no, each domain checked once: a batch's addresses share a few."""

    def __init__(self, validator: EmailValidator) -> None:
        self.validator = validator
        self.user_regex = re.compile(validator.user_regex.pattern, validator.user_regex.flags)
        self.domains: dict[str, bool] = {}

    def __call__(self, value: str) -> bool:
        if not value or "@" not in value or len(value) > 320:
            return False
        user_part, domain_part = value.rsplit("@", 1)
        if not self.user_regex.match(user_part):
            return False
        valid = self.domains.get(domain_part)
        if valid is None:
            valid = domain_part in self.validator.domain_allowlist or self.validator.validate_domain_part(domain_part)
            if len(self.domains) < 10_000:  # bounded: the domains come from requests
                self.domains[domain_part] = valid
        return valid


class _PlainText:
    """What `CharField.run_validation` does with a string (strip, blank check, the field's validators), each
    validator of a kind known here done as one string operation; the others are called as DRF calls them."""

    def __init__(self, field: serializers.CharField) -> None:
        self.trim, self.allow_blank = field.trim_whitespace, field.allow_blank
        self.max_length, self.no_nul, self.no_surrogates, self.regex, self.email = None, False, False, None, None
        self.others = []
        for validator in field.validators:
            kind = type(validator)
            if kind is MaxLengthValidator and self.max_length is None and isinstance(validator.limit_value, int):
                self.max_length = validator.limit_value
            elif kind is ProhibitNullCharactersValidator:
                self.no_nul = True
            elif kind is ProhibitSurrogateCharactersValidator:
                self.no_surrogates = True
            elif kind is RegexValidator and self.regex is None and not validator.inverse_match:
                self.regex = re.compile(validator.regex.pattern, validator.regex.flags)
            elif kind is EmailValidator and self.email is None:
                self.email = _PlainEmail(validator)
            else:
                self.others.append(validator)

    def __call__(self, value: str) -> str:
        if self.trim:
            value = value.strip()
        if value == "":
            if not self.allow_blank:
                raise _NotPlain
            return value
        if (
            (self.max_length is not None and len(value) > self.max_length)
            or (self.no_nul and "\x00" in value)
            or (self.no_surrogates and _SURROGATES.search(value))
            or (self.regex is not None and not self.regex.search(value))
            or (self.email is not None and not self.email(value))
        ):
            raise _NotPlain
        for validator in self.others:
            validator(value)
        return value


_NESTED, _REQUIRED, _NO_DEFAULT = object(), object(), object()


def _given(value):
    return value


@functools.cache
def _plain_plan(serializer: serializers.Serializer) -> tuple:
    """Per field, read once per process: its name, the field, where its value goes, how the plain pass checks a
    given string (`_NESTED`, a `_PlainText`, or None: the field does), what a missing value becomes, and the
    serializer's `validate_<name>`."""
    if getattr(serializer.root, "partial", False):
        raise _NotPlain  # a partial update skips missing fields: never the case of intake's serializers
    plan = []
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.Serializer):
            check = _NESTED
        elif isinstance(field, serializers.CharField) and not any(
            getattr(validator, "requires_context", False) for validator in field.validators
        ):
            check = _PlainText(field)
        else:
            check = None
        if field.required:
            missing = _REQUIRED
        elif field.default is empty:
            missing = _NO_DEFAULT
        elif callable(field.default) and not getattr(field.default, "requires_context", False):
            missing = field.default  # a factory, such as dict: a fresh value for each event
        elif callable(field.default):
            missing = field.get_default
        else:
            missing = functools.partial(_given, field.default)
        key = field.source_attrs[0] if len(field.source_attrs) == 1 else None
        plan.append((name, field, key, check, missing, getattr(serializer, f"validate_{name}", None)))
    return tuple(plan)


def _plain_validation(serializer: serializers.Serializer, data) -> dict:
    """What `serializer.run_validation(data)` returns, through the same fields, validators and
    `validate` methods, without DRF's per-field bookkeeping (four fifths of a batch item's check).
    Raises `_NotPlain` at the first doubt, so every error still comes from the serializer."""
    if type(data) is not dict or serializer.validators:
        raise _NotPlain
    validated: dict = {}
    try:
        for name, field, key, check, missing, validate_method in _plain_plan(serializer):
            value = data.get(name, empty)
            if value is empty:
                # As DRF does: a required field must be given, a missing one takes its default unchecked.
                if missing is _REQUIRED:
                    raise _NotPlain
                if missing is _NO_DEFAULT:
                    continue
                value = missing()
            elif check is _NESTED:
                value = _plain_validation(field, value)
            elif check is not None and type(value) is str:
                value = check(value)
            else:
                value = field.run_validation(value)
            if validate_method is not None:
                value = validate_method(value)
            if key is None:
                serializer.set_value(validated, field.source_attrs, value)
            else:
                validated[key] = value
        return serializer.validate(validated)
    except (serializers.ValidationError, DjangoValidationError) as error:
        raise _NotPlain from error


def event_input(data) -> EventData:
    """The event a request's JSON describes, typed once; or the serializer's ValidationError with its field messages.

    The `EventData` it returns is what intake works with from here to the stored row."""
    try:
        validated = _plain_validation(EVENT_INPUT, data)
    except _NotPlain:
        validated = EVENT_INPUT.run_validation(data)
    return EventData(
        type=validated["type"],
        external_id=validated["external_id"],
        occurred_at=validated["occurred_at"],
        contact=ContactData(**validated["contact"]),
        properties=validated["properties"],
    )


_DATETIME = serializers.DateTimeField()


def event_result_json(
    result: IngestResult, datetime_json: Callable[[datetime], str] = _DATETIME.to_representation
) -> dict:
    """The answer `EventResultSerializer` documents, built directly: through the serializer it was
    a fifth of the time of a batch of 1000 events."""
    return {
        "event_id": result.event.pk,
        "duplicate": result.duplicate,
        "scheduled": [
            {
                "id": str(outcome.invitation.public_id),
                "trigger_rule": outcome.trigger_rule_id,
                "survey": outcome.invitation.survey.name,
                "channel": outcome.invitation.channel,
                "scheduled_at": datetime_json(outcome.invitation.scheduled_at),
                "expires_at": datetime_json(outcome.invitation.expires_at),
            }
            for outcome in result.scheduled
        ],
        "skipped": [{"trigger_rule": outcome.trigger_rule_id, "reason": outcome.skipped} for outcome in result.skipped],
        "cancelled": [str(invitation.public_id) for invitation in result.cancelled],
    }


def batch_events(data) -> list:
    """The batch's events as `BatchInputSerializer` validates them: a JSON list of 1 to 1,000 objects is taken as
    it is (the serializer's copy of each object cost as much as checking the events); the serializer answers
    anything else, with its own messages."""
    events = data.get("events") if type(data) is dict else None
    if type(events) is list and 0 < len(events) <= BATCH_LIMIT and all(type(event) is dict for event in events):
        return events
    batch = BatchInputSerializer(data=data)
    batch.is_valid(raise_exception=True)
    return batch.validated_data["events"]


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Replays the first answer for the same body within 24 h; 422 for another body, 409 while in flight.",
)


class IdempotentPostView(APIView):
    """POST handled at most once per `Idempotency-Key`; the first answer is replayed for retries."""

    def post(self, request):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return self.handle_post(request)
        if len(key) > 255:
            return _error(
                status.HTTP_400_BAD_REQUEST, "Invalid input.", {"Idempotency-Key": ["At most 255 characters."]}
            )
        request_hash = hashlib.sha256(json.dumps(request.data, sort_keys=True, default=str).encode()).hexdigest()
        try:
            record, first = idempotency_claim(api_key=request.auth, key=key, request_hash=request_hash)
        except IdempotencyConflict:
            return _error(422, "This Idempotency-Key was used with a different request body.", {})
        except IdempotencyInFlight:
            return _error(409, "A request with this Idempotency-Key is still being processed.", {})
        if not first:
            return Response(record.response_body, status=record.status_code, headers={"Idempotent-Replayed": "true"})
        try:
            response = self.handle_post(request)
        except Exception:
            idempotency_release(record=record)
            raise
        idempotency_complete(record=record, status_code=response.status_code, body=response.data)
        return response


def _error(code: int, message: str, errors: dict) -> Response:
    return Response({"message": message, "errors": errors}, status=code)


class EventCreateApi(IdempotentPostView):
    permission_classes = [CanWriteEvents]

    @extend_schema(
        request=EventInputSerializer,
        responses={201: EventResultSerializer, 200: EventResultSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request):
        return super().post(request)

    def handle_post(self, request) -> Response:
        result = event_ingest(source=request.auth.source, event=event_input(request.data))
        return Response(
            event_result_json(result),
            status=status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED,
        )


def batch_validate(items: list) -> tuple[list[tuple[int, EventData]], list[dict]]:
    """A batch's items checked one by one: the valid events by index, and the results of the refused ones (their
    field messages), so that one bad item does not reject the others."""
    valid: list[tuple[int, EventData]] = []
    refused: list[dict] = []
    for index, item in enumerate(items):
        try:
            valid.append((index, event_input(item)))
        except serializers.ValidationError as error:
            refused.append({"index": index, "status": 400, "errors": _flatten(error.detail)})
    return valid, refused


def batch_ingest(source: str, valid: list[tuple[int, EventData]], refused: list[dict]) -> list[dict]:
    """Each item's result, by index, as `POST /api/events/batch/` answers them: the valid events ingested together
    (`events_ingest`, one transaction), the refused ones' results as they are."""
    ingested = events_ingest(source=source, events=[event for _, event in valid])
    # A batch's invitations share a few times (one per rule delay): each is formatted once.
    datetime_json = functools.cache(_DATETIME.to_representation)
    results = {result["index"]: result for result in refused}
    for (index, _), result in zip(valid, ingested, strict=True):
        results[index] = {
            "index": index,
            "status": 200 if result.duplicate else 201,
            "result": event_result_json(result, datetime_json),
        }
    return [results[index] for index in sorted(results)]


class EventBatchApi(IdempotentPostView):
    permission_classes = [CanWriteEvents]

    @extend_schema(
        request=BatchInputSerializer, responses={200: BatchResultSerializer}, parameters=[IDEMPOTENCY_HEADER]
    )
    def post(self, request):
        return super().post(request)

    def handle_post(self, request) -> Response:
        # One transaction for the batch (`events_ingest`'s): invalid items are reported and skipped, while a failure
        # of the database rolls the whole batch back, so retrying the batch is safe.
        results = batch_ingest(request.auth.source, *batch_validate(batch_events(request.data)))
        return Response({"results": results}, status=status.HTTP_200_OK)


def staged_batch_json(request, batch: EventBatch) -> dict:
    return {
        "id": str(batch.public_id),
        "url": request.build_absolute_uri(reverse("api-event-batch", args=[batch.public_id])),
        "status": batch.status,
        "size": batch.size,
        "refused": sum(1 for result in batch.results if result["status"] == 400),
        "accepted_at": _DATETIME.to_representation(batch.accepted_at),
        "expanded_at": _DATETIME.to_representation(batch.expanded_at) if batch.expanded_at else None,
        "error": batch.error,
        "results": batch.results,
    }


class StagedBatchCreateApi(IdempotentPostView):
    """Accept a batch now, ingest it in a worker: for imports that should not wait on a thousand writes."""

    permission_classes = [CanWriteEvents]

    @extend_schema(
        request=BatchInputSerializer, responses={202: StagedBatchSerializer}, parameters=[IDEMPOTENCY_HEADER]
    )
    def post(self, request):
        response = super().post(request)
        if response.status_code == status.HTTP_202_ACCEPTED:
            # An `Idempotency-Key` replay gives back the stored body only: its `Location` comes from that body.
            response["Location"] = response.data["url"]
        return response

    def handle_post(self, request) -> Response:
        items = batch_events(request.data)
        valid, refused = batch_validate(items)
        batch = event_batch_accept(api_key=request.auth, size=len(items), valid=valid, refused=refused)
        return Response(staged_batch_json(request, batch), status=status.HTTP_202_ACCEPTED)


class StagedBatchDetailApi(APIView):
    permission_classes = [CanWriteEvents]

    @extend_schema(responses={200: StagedBatchSerializer})
    def get(self, request, public_id):
        batch = event_batch_get(api_key=request.auth, public_id=public_id)
        if batch is None:
            raise NotFound("No batch with this id was sent with this API key.")
        return Response(staged_batch_json(request, batch))


class DurationField(serializers.IntegerField):
    """A duration given and shown as a whole number of `unit` seconds (1 for seconds, 86400 for days)."""

    def __init__(self, *, unit: int, maximum: int, **kwargs) -> None:
        self.unit, self.maximum = unit, maximum
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> timedelta:
        number = super().to_internal_value(data)
        if not 0 <= number <= self.maximum:
            raise serializers.ValidationError(f"Give a whole number from 0 to {self.maximum}.")
        return timedelta(seconds=number * self.unit)

    def to_representation(self, value: timedelta) -> int:
        return int(value.total_seconds()) // self.unit


class TriggerRuleSerializer(serializers.ModelSerializer):
    survey = serializers.PrimaryKeyRelatedField(queryset=Survey.objects.all())
    event_type = serializers.RegexField(r"^[a-z0-9_.:-]+$", max_length=100)
    delay_seconds = DurationField(unit=1, maximum=365 * 86400, source="delay", default=timedelta(0))
    expiry_days = DurationField(unit=86400, maximum=365, source="expiry", required=False, allow_null=True)
    sample_rate = serializers.FloatField(min_value=0, max_value=1, default=1.0)
    conditions = serializers.JSONField(default=list, validators=[json_storable])
    cancel_on_event_types = serializers.ListField(
        child=serializers.RegexField(r"^[a-z0-9_.:-]+$", max_length=100), default=list
    )

    class Meta:
        model = TriggerRule
        fields = [
            "id",
            "event_type",
            "survey",
            "channel",
            "conditions",
            "delay_seconds",
            "sample_rate",
            "expiry_days",
            "cancel_on_event_types",
            "match_property",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def validate_channel(self, value):
        if problem := trigger_rule_channel_problem(value):
            raise serializers.ValidationError(problem)
        return value

    def validate_conditions(self, value):
        errors = conditions_errors(value)
        if errors:
            raise serializers.ValidationError(errors)
        return value
