"""`/api/follow-ups/` (the inbox and case actions), for people and API keys.

Parses, calls one `feedback` selector or service, shapes JSON. Who sees what is the inbox's rule:
managers (and keys bound to no team) see every case, agents (and team-bound keys) their team's;
a case one may not see is a 404. Malformed input is a 400, a refused change a 422.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, prefetch_related_objects
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ERROR_RESPONSES
from feedback.models import ApiKeyTeam, FollowUp, FollowUpEntry, User
from feedback.selectors import INBOX_FILTERS, follow_up_get, follow_up_list, follow_up_thread
from feedback.serializers import (
    FollowUpDetailSerializer,
    FollowUpEntrySerializer,
    FollowUpListQuerySerializer,
    FollowUpNoteSerializer,
    FollowUpReplySerializer,
    FollowUpResolveSerializer,
    FollowUpSerializer,
    FollowUpUpdateSerializer,
    ThreadItemSerializer,
)
from feedback.services.cases import follow_up_add_note, follow_up_update
from feedback.services.conversation import follow_up_reply
from feedback.services.resolution import follow_up_resolve
from surveys.models import ApiKey


@dataclass(frozen=True)
class ApiKeyViewer:
    """What the follow-up selectors read of a viewer, for a request signed with an API key."""

    team_id: int | None

    @property
    def is_manager(self) -> bool:
        return self.team_id is None


def _viewer(request) -> User | ApiKeyViewer:
    if isinstance(request.auth, ApiKey):
        team_id = ApiKeyTeam.objects.filter(api_key=request.auth).values_list("team_id", flat=True).first()
        return ApiKeyViewer(team_id=team_id)
    return request.user


def _actor(request) -> User | None:
    """Who the audit trail names: the person, or nobody for an integration."""
    return request.user if isinstance(request.user, User) else None


class CanWorkFollowUps(permissions.BasePermission):
    """A logged-in person, or an API key with follow_ups:read (to read) or follow_ups:write (to change)."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ApiKey):
            scope = (
                ApiKey.Scope.FOLLOW_UPS_READ
                if request.method in permissions.SAFE_METHODS
                else ApiKey.Scope.FOLLOW_UPS_WRITE
            )
            self.message = f"This API key lacks the {scope} scope."
            return scope in request.auth.scopes
        return isinstance(request.user, User) and request.user.is_active


class FollowUpPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100


def _refused(exc: ValidationError) -> Response:
    return Response(
        {"message": "The follow-up cannot change this way.", "errors": exc.message_dict},
        status=status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


class FollowUpApi(APIView):
    permission_classes = [CanWorkFollowUps]

    def visible_follow_up(self, follow_up_id: int) -> FollowUp:
        follow_up = follow_up_get(user=_viewer(self.request), follow_up_id=follow_up_id)
        if follow_up is None:
            raise exceptions.NotFound("No such follow-up.")
        return follow_up

    def detail_response(self, follow_up_id: int, code: int = status.HTTP_200_OK) -> Response:
        follow_up = self.visible_follow_up(follow_up_id)
        prefetch_related_objects([follow_up], Prefetch("entries", FollowUpEntry.objects.select_related("author")))
        return Response(FollowUpDetailSerializer(follow_up).data, status=code)


NOT_FOUND = {404: OpenApiResponse(description="No such follow-up, or not one the caller may see.")}
REFUSED = {422: OpenApiResponse(description="The change is not allowed for this case: `errors` says why.")}


@extend_schema(tags=["follow-ups"])
class FollowUpListApi(generics.ListAPIView):
    permission_classes = [CanWorkFollowUps]
    serializer_class = FollowUpSerializer
    pagination_class = FollowUpPagination

    @extend_schema(
        summary="The follow-up inbox",
        description="Views, filters and sorts of the agent inbox. `mine` needs a person: API keys default to `all`.",
        parameters=[FollowUpListQuerySerializer],
        responses={200: FollowUpSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = FollowUpListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        viewer = _viewer(self.request)
        view = data.get("view", "")
        if isinstance(viewer, ApiKeyViewer):
            if view in ("mine", "work"):
                raise exceptions.ValidationError({"view": ["An API key has no cases of its own; use another view."]})
            view = view or "all"
        # The API's defaults predate the inbox's "work" view and integrations rely on them: an agent's
        # own cases, everything for a manager.
        view = view or ("all" if viewer.is_manager else "mine")
        filters = {key: data.get(key) for key in INBOX_FILTERS}
        return follow_up_list(user=viewer, view=view, filters=filters, sort=data["sort"]).select_related("root_cause")


@extend_schema(tags=["follow-ups"])
class FollowUpDetailApi(FollowUpApi):
    @extend_schema(
        summary="A follow-up with its timeline",
        responses={200: FollowUpDetailSerializer, **ERROR_RESPONSES, **NOT_FOUND},
    )
    def get(self, request, follow_up_id: int):
        return self.detail_response(follow_up_id)

    @extend_schema(
        summary="Change status, assignee or priority",
        request=FollowUpUpdateSerializer,
        responses={200: FollowUpDetailSerializer, **ERROR_RESPONSES, **NOT_FOUND, **REFUSED},
    )
    def patch(self, request, follow_up_id: int):
        follow_up = self.visible_follow_up(follow_up_id)
        serializer = FollowUpUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            follow_up_update(follow_up=follow_up, actor=_actor(request), changes=serializer.validated_data)
        except ValidationError as exc:
            return _refused(exc)
        return self.detail_response(follow_up_id)


@extend_schema(tags=["follow-ups"])
class FollowUpNoteApi(FollowUpApi):
    @extend_schema(
        summary="Add an internal note",
        request=FollowUpNoteSerializer,
        responses={201: FollowUpEntrySerializer, **ERROR_RESPONSES, **NOT_FOUND, **REFUSED},
    )
    def post(self, request, follow_up_id: int):
        follow_up = self.visible_follow_up(follow_up_id)
        serializer = FollowUpNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            entry = follow_up_add_note(
                follow_up=follow_up, author=_actor(request), body=serializer.validated_data["body"]
            )
        except ValidationError as exc:
            return _refused(exc)
        return Response(FollowUpEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["follow-ups"])
class FollowUpReplyApi(FollowUpApi):
    @extend_schema(
        summary="Reply to the customer by email or SMS",
        description="Email goes out with the agent's name on the team's address and the case's own Reply-To, so "
        "the customer's answer comes back to the case; after an SMS reply, the customer's SMS go to the case.",
        request=FollowUpReplySerializer,
        responses={201: FollowUpEntrySerializer, **ERROR_RESPONSES, **NOT_FOUND, **REFUSED},
    )
    def post(self, request, follow_up_id: int):
        follow_up = self.visible_follow_up(follow_up_id)
        serializer = FollowUpReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            entry = follow_up_reply(
                follow_up=follow_up, author=_actor(request), body=data["text"], channel=data.get("channel", "")
            )
        except ValidationError as exc:
            return _refused(exc)
        return Response(FollowUpEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["follow-ups"])
class FollowUpThreadApi(FollowUpApi):
    @extend_schema(
        summary="The case's conversation, oldest first",
        responses={200: ThreadItemSerializer(many=True), **ERROR_RESPONSES, **NOT_FOUND},
    )
    def get(self, request, follow_up_id: int):
        follow_up = self.visible_follow_up(follow_up_id)
        return Response(ThreadItemSerializer(follow_up_thread(follow_up=follow_up, reader_zone=None), many=True).data)


@extend_schema(tags=["follow-ups"])
class FollowUpResolveApi(FollowUpApi):
    @extend_schema(
        summary="Resolve with a root cause and an outcome",
        request=FollowUpResolveSerializer,
        responses={200: FollowUpDetailSerializer, **ERROR_RESPONSES, **NOT_FOUND, **REFUSED},
    )
    def post(self, request, follow_up_id: int):
        follow_up = self.visible_follow_up(follow_up_id)
        serializer = FollowUpResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            follow_up_resolve(
                follow_up=follow_up,
                author=_actor(request),
                root_cause=data["root_cause"],
                outcome=data["outcome"],
                note=data["note"],
            )
        except ValidationError as exc:
            return _refused(exc)
        return self.detail_response(follow_up_id)
