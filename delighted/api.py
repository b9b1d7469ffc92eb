"""Delighted's `/v1/` API over Closeloop's services: people, survey requests, responses, unsubscribes, bounces.

Only translates: Delighted's parameters in, Delighted's JSON out (ids as strings, times as
Unix seconds, 422 for invalid input, 202 for deletions). Decisions stay in `surveys` services.

Longer than 400 lines on purpose: it is Delighted's whole `/v1/` surface, whose quirks (422 instead of
400, `.json` suffixes, epoch times, ids as strings, NUL refused) are handled once for every endpoint here;
split by endpoint, each file would carry a copy of them.
"""

import base64
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import exception_handler
from delighted.authentication import DelightedBasicAuthentication
from delighted.models import AutopilotMembership
from delighted.selectors import autopilot_memberships_page
from delighted.services import (
    NoteData,
    autopilot_membership_add,
    autopilot_membership_remove,
    contact_survey_request,
    person_erase,
    response_annotate,
)
from notifications.models import Channel
from notifications.selectors import suppression_list
from notifications.services.suppressions import suppression_add
from surveys.api import EMAIL_MAX, ContactInputSerializer, InvitationPropertiesField, contains_nul
from surveys.authentication import CanReadResponses, CanWriteEvents, IsAdminKey, has_scope
from surveys.delighted_json import MAX_EPOCH, epoch, from_epoch, person_json, response_json, suppression_json
from surveys.models import ApiKey, Contact, Invitation
from surveys.selectors import (
    contact_get_by_identifier,
    contacts_by_email,
    contacts_last_sent,
    contacts_page,
    response_get,
    responses_list,
)
from surveys.services.contacts import ContactData
from surveys.services.responses import response_submit
from surveys.services.scheduling import invitation_record, invitations_cancel_pending

MAX_PER_PAGE = 100
MAX_ID_DIGITS = 18  # a 64-bit primary key has at most 19 digits; longer "ids" cannot exist


def delighted_exception_handler(exc, context):
    """Delighted's status codes: 422 (not 400) for invalid input; the body says its status too."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    if response.status_code == status.HTTP_400_BAD_REQUEST:
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    response.data = {"status": response.status_code, **response.data}
    return response


def can_read(request) -> bool:
    """A write answers with the stored record only to a key that may read it; otherwise with what it wrote."""
    return has_scope(request, ApiKey.Scope.RESPONSES_READ)


class DelightedView(APIView):
    authentication_classes = [DelightedBasicAuthentication]
    permission_classes = [CanWriteEvents]
    # The client sends JSON bodies on POST/PUT/DELETE and query strings on GET; both land in `params`.
    # Described in /api/schema/ by delighted/schema.py.

    def get_exception_handler(self):
        return delighted_exception_handler

    def params(self, request) -> dict:
        if request.method == "GET":
            params = _query_dict(request.query_params)
        else:
            params = request.data if isinstance(request.data, dict) else {}
        # Some parameters go to the database unparsed (filters), and PostgreSQL refuses U+0000 in text.
        refused = {
            key: ["Null characters are not allowed."] for key, value in params.items() if contains_nul([key, value])
        }
        if refused:
            raise exceptions.ValidationError(refused)
        return params


def _query_dict(query) -> dict:
    """`properties[plan]=pro` and `expand[]=person` back into nested values, as the client encodes them."""
    params: dict = {}
    for key in query:
        if key.endswith("[]"):
            params[key[:-2]] = query.getlist(key)
        elif "[" in key and key.endswith("]"):
            outer, _, inner = key[:-1].partition("[")
            params.setdefault(outer, {})[inner] = query.get(key)
        else:
            params[key] = query.get(key)
    return params


# --- people ----------------------------------------------------------------


class PersonCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True, default="", max_length=EMAIL_MAX)
    phone_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    name = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="", max_length=200)
    channel = serializers.ChoiceField(choices=["email", "sms"], required=False, default="email")
    delay = serializers.IntegerField(required=False, min_value=0, max_value=365 * 86400, default=0)
    send = serializers.BooleanField(required=False, default=True)
    last_sent_at = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_EPOCH, allow_null=True, default=None
    )
    properties = InvitationPropertiesField(required=False, default=dict)
    email_update = serializers.EmailField(required=False, allow_blank=True, default="", max_length=EMAIL_MAX)
    phone_number_update = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)

    def validate_phone_number_update(self, value: str) -> str:
        return ContactInputSerializer().validate_phone(value)

    def validate(self, attrs: dict) -> dict:
        for update in ("email_update", "phone_number_update"):
            if attrs[update] and not (attrs["email"] or attrs["phone_number"]):
                raise serializers.ValidationError({update: ["Give the person's current email or phone_number too."]})
        contact = ContactInputSerializer(
            data={
                "email": attrs["email"],
                "phone": attrs["phone_number"],
                "name": attrs["name"] or "",
                "locale": attrs["properties"].get("locale") or "",
                "properties": attrs["properties"],
            }
        )
        if not contact.is_valid():
            errors = dict(contact.errors)
            if "phone" in errors:
                errors["phone_number"] = errors.pop("phone")
            if "non_field_errors" in errors:
                errors["email"] = ["Give an email, or a phone_number with channel sms."]
                del errors["non_field_errors"]
            raise serializers.ValidationError(errors)
        if attrs["channel"] == "sms" and not (attrs["phone_number"] or attrs["phone_number_update"]):
            raise serializers.ValidationError({"phone_number": ["Required when channel is sms."]})
        if attrs["channel"] == "email" and not (attrs["email"] or attrs["email_update"]):
            raise serializers.ValidationError({"email": ["Required when channel is email."]})
        attrs["contact"] = contact.validated_data
        return attrs


class PeopleApi(DelightedView):
    def get_permissions(self):
        return [CanReadResponses()] if self.request.method == "GET" else [CanWriteEvents()]

    def post(self, request, **kwargs):
        serializer = PersonCreateSerializer(data=self.params(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        contact_fields = dict(data["contact"])
        try:
            contact, outcome = contact_survey_request(
                data=ContactData(**contact_fields),
                survey=request.auth.survey,
                channel=data["channel"],
                delay=timedelta(seconds=data["delay"]),
                send=data["send"] and request.auth.survey is not None,
                properties=data["properties"],
                last_sent_at=from_epoch(data["last_sent_at"]),
                email_update=data["email_update"],
                phone_update=data["phone_number_update"],
            )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from exc
        body = person_json(contact, from_epoch(data["last_sent_at"]))
        if not can_read(request):
            # A known person's stored name or number is not for a key that may only write.
            given = data["contact"]
            body.update(
                email=(data["email_update"] or given["email"]) or None,
                phone_number=(data["phone_number_update"] or given["phone"]) or None,
                name=given["name"] or None,
            )
        invitation = outcome.invitation if outcome else None
        body["survey_scheduled_at"] = epoch(invitation.scheduled_at) if invitation else None
        if outcome and outcome.skipped:
            body["survey_skipped_reason"] = outcome.skipped
        return Response(body, status=status.HTTP_200_OK)

    def get(self, request, **kwargs):
        params = self.params(request)
        per_page = _bounded_int(params.get("per_page"), default=20, low=1, high=MAX_PER_PAGE)
        after_id = _cursor_decode(params.get("page_info", ""))
        contacts = contacts_page(
            survey=request.auth.survey,
            after_id=after_id,
            limit=per_page + 1,
            email=params.get("email", "") or "",
            phone=params.get("phone_number", "") or "",
            since=_epoch_param(params, "since"),
            until=_epoch_param(params, "until"),
        )
        page, more = contacts[:per_page], len(contacts) > per_page
        last_sent = contacts_last_sent(contact_ids=[contact.pk for contact in page])
        headers = {"Link": _next_link(request, page[-1].pk, per_page)} if more else {}
        return Response([person_json(c, last_sent.get(c.pk)) for c in page], headers=headers)


def _cursor_encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def _cursor_decode(value: str) -> int:
    """An opaque cursor; a malformed one is a 422, not a silent restart from the beginning."""
    if not value:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        prefix, _, last_id = decoded.partition(":")
        if prefix != "after" or _id_param(last_id) is None:
            raise ValueError
    except ValueError as exc:
        raise exceptions.ValidationError({"page_info": ["Invalid cursor."]}) from exc
    return int(last_id)


def _epoch_param(params: dict, name: str) -> datetime | None:
    return from_epoch(_bounded_int(params.get(name), default=None, low=0, high=MAX_EPOCH))


def _id_param(value) -> int | None:
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() and len(text) <= MAX_ID_DIGITS else None


def _bounded_int(value, *, default, low: int, high: int | None = None):
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    number = max(number, low)
    return min(number, high) if high is not None else number


class PersonDeleteApi(DelightedView):
    # Erasing a person erases their answers to every survey: only an `admin` key may, and it is audited.
    permission_classes = [IsAdminKey]

    def delete(self, request, identifier: str, **kwargs):
        contact = contact_get_by_identifier(identifier=identifier)
        if contact is None:
            return Response({"status": 404, "message": "Person not found.", "errors": {}}, status=404)
        person_erase(contact=contact, api_key=request.auth)
        return Response({"ok": True}, status=status.HTTP_202_ACCEPTED)


class PendingSurveyRequestsApi(DelightedView):
    def delete(self, request, email: str, **kwargs):
        contact = contact_get_by_identifier(identifier=f"email:{email}")
        if contact is None:
            return Response({"status": 404, "message": "Person not found.", "errors": {}}, status=404)
        invitations_cancel_pending(contact=contact, survey=request.auth.survey, reason="delighted_api")
        return Response({"ok": True}, status=status.HTTP_202_ACCEPTED)


# --- survey responses ------------------------------------------------------


class NoteInputSerializer(serializers.Serializer):
    """Delighted's note object as the client sends it back (`created_at` ignored), or a bare text."""

    id = serializers.RegexField(r"^[0-9]{1,18}$", required=False, allow_null=True, default="")
    text = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    user_email = serializers.EmailField(
        required=False, allow_blank=True, allow_null=True, default="", max_length=EMAIL_MAX
    )

    def to_internal_value(self, data):
        return super().to_internal_value({"text": data} if isinstance(data, str) else data)

    def validate(self, attrs: dict) -> NoteData:
        if not attrs["id"] and not attrs["text"].strip():
            raise serializers.ValidationError({"text": ["A new note needs a text."]})
        return NoteData(id=attrs["id"] or "", text=attrs["text"], user_email=attrs["user_email"] or "")


class AnnotationsSerializer(serializers.Serializer):
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, allow_null=True, max_length=100, default=None
    )
    notes = serializers.ListField(child=NoteInputSerializer(), required=False, allow_null=True, max_length=100)


class ResponseCreateSerializer(AnnotationsSerializer):
    person = serializers.CharField(max_length=40)
    score = serializers.IntegerField(min_value=-1000, max_value=1000)
    comment = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="", max_length=5000)
    person_properties = InvitationPropertiesField(required=False, default=dict)


class ResponseUpdateSerializer(AnnotationsSerializer):
    score = serializers.IntegerField(required=False, min_value=-1000, max_value=1000)
    comment = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=5000)


def _submit(invitation: Invitation, score: int, comment: str | None, annotations: dict):
    try:
        with transaction.atomic():
            response = response_submit(invitation=invitation, score=score, comment=comment)
            response_annotate(response=response, tags=annotations.get("tags"), notes=annotations.get("notes") or [])
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(exc.message_dict) from exc
    return response


def _annotate(response, annotations: dict):
    try:
        return response_annotate(response=response, tags=annotations.get("tags"), notes=annotations.get("notes") or [])
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(exc.message_dict) from exc


class SurveyResponsesApi(DelightedView):
    def get_permissions(self):
        return [CanReadResponses()] if self.request.method == "GET" else [CanWriteEvents()]

    def get(self, request, **kwargs):
        params = self.params(request)
        per_page = _bounded_int(params.get("per_page"), default=20, low=1, high=MAX_PER_PAGE)
        page = _bounded_int(params.get("page"), default=1, low=1, high=1_000_000)
        order = (
            params.get("order")
            if params.get("order") in ("asc", "desc", "asc:updated_at", "desc:updated_at")
            else "asc"
        )
        person_id = params.get("person_id")
        responses = responses_list(
            survey=request.auth.survey,
            since=_epoch_param(params, "since"),
            until=_epoch_param(params, "until"),
            updated_since=_epoch_param(params, "updated_since"),
            updated_until=_epoch_param(params, "updated_until"),
            contact_id=_id_param(person_id),
            contact_email=params.get("person_email", "") or "",
            trend=_id_param(params.get("trend")),
            order=order,
            offset=(page - 1) * per_page,
            limit=per_page,
        )
        expand = params.get("expand") or []
        expand = expand if isinstance(expand, list) else [expand]
        return Response([response_json(r, expand=expand) for r in responses])

    def post(self, request, **kwargs):
        serializer = ResponseCreateSerializer(data=self.params(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        survey = request.auth.survey
        contact = contact_get_by_identifier(identifier=data["person"])
        if contact is None:
            raise exceptions.ValidationError({"person": ["No person with this id."]})
        if survey is None:
            raise exceptions.ValidationError({"survey": ["This API key has no default survey."]})
        with transaction.atomic():
            invitation = invitation_record(contact=contact, survey=survey, properties=data["person_properties"])
            response = _submit(invitation, data["score"], data["comment"] or None, data)
        body = response_json(response, expand=[]) if can_read(request) else _written_json(response, data)
        return Response(body, status=status.HTTP_201_CREATED)


class SurveyResponseApi(DelightedView):
    def get_permissions(self):
        return [CanReadResponses()] if self.request.method == "GET" else [CanWriteEvents()]

    def _get(self, request, pk: str):
        pk_value = _id_param(pk)
        response = response_get(pk=pk_value, survey=request.auth.survey) if pk_value is not None else None
        if response is None:
            raise exceptions.NotFound("Survey response not found.")
        return response

    def get(self, request, pk: str, **kwargs):
        expand = self.params(request).get("expand") or []
        return Response(response_json(self._get(request, pk), expand=expand if isinstance(expand, list) else [expand]))

    def put(self, request, pk: str, **kwargs):
        response = self._get(request, pk)
        serializer = ResponseUpdateSerializer(data=self.params(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        score, comment = data.get("score", response.score), data.get("comment")
        if score == response.score and (comment is None or comment.strip() == response.comment):
            # The client sends the whole response back: when only tags or notes changed, the answer
            # is left alone, so a company can still file an answer whose survey link has expired.
            _annotate(response, data)
        else:
            _submit(response.invitation, score, comment, data)
        if not can_read(request):
            return Response(_written_json(self._get(request, pk), data))
        return Response(response_json(self._get(request, pk), expand=["person"]))


def _written_json(response, data: dict) -> dict:
    """Delighted's response shape holding only what this write sent (and the ids it needs to refer to it):
    a key without `responses:read` learns nothing it did not write."""
    body = {"id": str(response.pk), "person": str(response.contact_id), "survey_type": response.survey.kind}
    if "score" in data:
        body["score"] = response.score
    if data.get("comment") is not None:
        body["comment"] = response.comment or None
    if data.get("tags") is not None:
        body["tags"] = response.tags
    if data.get("person_properties"):
        body["person_properties"] = response.invitation.properties
    return body


# --- autopilot -------------------------------------------------------------


class AutopilotConfigurationApi(DelightedView):
    def get_permissions(self):
        return [CanReadResponses()]

    def get(self, request, platform: str, **kwargs):
        survey = request.auth.survey
        return Response(
            {
                "platform_id": platform,
                "active": bool(survey and survey.is_active),
                "frequency": settings.AUTOPILOT_FREQUENCY_DAYS * 86400,
                "created_at": epoch(survey.created_at) if survey else None,
                "updated_at": epoch(survey.created_at) if survey else None,
            }
        )


class MembershipSerializer(serializers.Serializer):
    person_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    person_email = serializers.EmailField(required=False, allow_blank=True, default="", max_length=EMAIL_MAX)
    person_phone_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    person_name = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="", max_length=200)
    properties = InvitationPropertiesField(required=False, default=None, allow_null=True)

    def validate(self, attrs: dict) -> dict:
        if not (attrs["person_id"] or attrs["person_email"] or attrs["person_phone_number"]):
            raise serializers.ValidationError(
                {"person_email": ["Give person_email, person_phone_number or person_id."]}
            )
        if attrs["person_phone_number"]:
            attrs["person_phone_number"] = ContactInputSerializer().validate_phone(attrs["person_phone_number"])
        return attrs


def membership_json(membership: AutopilotMembership) -> dict:
    return {
        "created_at": epoch(membership.created_at),
        "updated_at": epoch(membership.updated_at),
        "person": person_json(membership.contact),
        "next_survey_request": {
            "id": None,
            "created_at": None,
            "survey_scheduled_at": epoch(membership.next_survey_at),
            "properties": membership.properties,
        },
        "properties": membership.properties,
    }


class AutopilotMembershipsApi(DelightedView):
    def get_permissions(self):
        return [CanReadResponses()] if self.request.method == "GET" else [CanWriteEvents()]

    def _contact(self, data: dict) -> Contact | None:
        if data["person_id"]:
            return contact_get_by_identifier(identifier=data["person_id"])
        if data["person_email"]:
            return contact_get_by_identifier(identifier=f"email:{data['person_email']}")
        return contact_get_by_identifier(identifier=f"phone_number:{data['person_phone_number']}")

    def post(self, request, platform: str, **kwargs):
        serializer = MembershipSerializer(data=self.params(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if request.auth.survey is None:
            raise exceptions.ValidationError({"survey": ["This API key has no default survey."]})
        known = self._contact(data) if data["person_id"] else None
        if data["person_id"] and known is None:
            raise exceptions.ValidationError({"person_id": ["No person with this id."]})
        membership = autopilot_membership_add(
            survey=request.auth.survey,
            channel=platform,
            data=ContactData(
                email=known.email if known else data["person_email"],
                phone=known.phone if known else data["person_phone_number"],
                external_id=known.external_id if known else "",
                name=data["person_name"] or "",
            ),
            properties=data["properties"],
        )
        return Response({"person": person_json(membership.contact), "properties": membership.properties})

    def delete(self, request, platform: str, **kwargs):
        serializer = MembershipSerializer(data=self.params(request))
        serializer.is_valid(raise_exception=True)
        contact = self._contact(serializer.validated_data)
        if contact is None or not autopilot_membership_remove(
            survey=request.auth.survey, channel=platform, contact=contact
        ):
            return Response({"status": 404, "message": "Not an autopilot member.", "errors": {}}, status=404)
        return Response({"person": person_json(contact)}, status=status.HTTP_202_ACCEPTED)

    def get(self, request, platform: str, **kwargs):
        params = self.params(request)
        per_page = _bounded_int(params.get("per_page"), default=20, low=1, high=MAX_PER_PAGE)
        after_id = _cursor_decode(params.get("page_info", ""))
        contact = None
        for field, prefix in (("person_id", ""), ("person_email", "email:"), ("person_phone_number", "phone_number:")):
            if params.get(field):
                contact = contact_get_by_identifier(identifier=f"{prefix}{params[field]}")
                if contact is None:
                    return Response([])
        memberships = autopilot_memberships_page(
            survey=request.auth.survey, channel=platform, contact=contact, after_id=after_id, limit=per_page + 1
        )
        page, more = memberships[:per_page], len(memberships) > per_page
        headers = {"Link": _next_link(request, page[-1].pk, per_page)} if more else {}
        return Response([membership_json(m) for m in page], headers=headers)


def _next_link(request, last_id: int, per_page: int) -> str:
    query = request.query_params.copy()
    query["page_info"] = _cursor_encode(last_id)
    query["per_page"] = str(per_page)
    return f'<{request.build_absolute_uri(request.path)}?{query.urlencode()}>; rel="next"'


# --- unsubscribes and bounces ----------------------------------------------


class UnsubscribeSerializer(serializers.Serializer):
    person_email = serializers.EmailField(max_length=EMAIL_MAX)


def _suppressions_json(request, params: dict, reason: str, time_key: str) -> list[dict]:
    per_page = _bounded_int(params.get("per_page"), default=20, low=1, high=MAX_PER_PAGE)
    page = _bounded_int(params.get("page"), default=1, low=1, high=1_000_000)
    suppressions = list(
        suppression_list(
            reason=reason,
            since=_epoch_param(params, "since"),
            until=_epoch_param(params, "until"),
        ).filter(channel=Channel.EMAIL)[(page - 1) * per_page : page * per_page]
    )
    contacts = contacts_by_email(emails=[s.recipient for s in suppressions])
    return [
        suppression_json(suppression, contacts.get(suppression.recipient), time_key=time_key)
        for suppression in suppressions
    ]


class UnsubscribesApi(DelightedView):
    def get_permissions(self):
        return [CanReadResponses()] if self.request.method == "GET" else [CanWriteEvents()]

    def post(self, request, **kwargs):
        serializer = UnsubscribeSerializer(data=self.params(request))
        serializer.is_valid(raise_exception=True)
        suppression_add(
            channel=Channel.EMAIL,
            recipient=serializer.validated_data["person_email"],
            reason="unsubscribe",
            source=f"delighted_api:{request.auth.pk}",
        )
        return Response({"ok": True})

    def get(self, request, **kwargs):
        return Response(_suppressions_json(request, self.params(request), "unsubscribe", "unsubscribed_at"))


class BouncesApi(DelightedView):
    def get_permissions(self):
        return [CanReadResponses()]

    def get(self, request, **kwargs):
        return Response(_suppressions_json(request, self.params(request), "bounce", "bounced_at"))
