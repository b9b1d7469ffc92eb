"""The theme taxonomy over HTTP: list, create, rename, seed, merge and delete themes; list, promote and
dismiss discovered candidates. Managers (session) or API keys with the admin scope; every write calls
the service the manager page calls (`insights.taxonomy`)."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.models import User
from insights import analysis, taxonomy
from insights.models import Theme, ThemeCandidate
from surveys.models import ApiKey


class CanManageThemes(permissions.BasePermission):
    """A manager, or an API key with the admin scope."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ApiKey):
            self.message = "This API key lacks the admin scope."
            return ApiKey.Scope.ADMIN in request.auth.scopes
        return isinstance(request.user, User) and request.user.is_active and request.user.is_manager


def _refused(exc: ValidationError):
    raise exceptions.ValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    )


class SeedsField(serializers.ListField):
    child = serializers.CharField(max_length=taxonomy.SEED_MAX_LENGTH, allow_blank=True)


class ThemeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Theme
        fields = ["slug", "name", "seeds", "position", "created_at", "updated_at"]


class ThemeCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    slug = serializers.CharField(max_length=50, required=False, allow_blank=True)
    seeds = SeedsField(required=False, max_length=taxonomy.MAX_SEEDS)


class ThemeUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    seeds = SeedsField(required=False, max_length=taxonomy.MAX_SEEDS)
    add_seeds = SeedsField(required=False, max_length=taxonomy.MAX_SEEDS)


class ThemeMergeSerializer(serializers.Serializer):
    into = serializers.SlugRelatedField(slug_field="slug", queryset=Theme.objects.all())


class CandidateSerializer(serializers.ModelSerializer):
    theme = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = ThemeCandidate
        fields = ["id", "key_phrases", "size", "typical_response_ids", "typical_comments", "status", "theme",
                  "discovered_at"]  # fmt: skip


class PromoteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    seeds = SeedsField(required=False, max_length=taxonomy.MAX_SEEDS)


class ThemeListApi(APIView):
    permission_classes = [CanManageThemes]

    @extend_schema(tags=["themes"], responses=ThemeSerializer(many=True))
    def get(self, request):
        return Response(
            {"themes": ThemeSerializer(taxonomy.themes_active(), many=True).data, "status": analysis.status()}
        )

    @extend_schema(tags=["themes"], request=ThemeCreateSerializer, responses={201: ThemeSerializer})
    def post(self, request):
        body = ThemeCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            theme = taxonomy.theme_create(**body.validated_data)
        except ValidationError as exc:
            _refused(exc)
        return Response(ThemeSerializer(theme).data, status=status.HTTP_201_CREATED)


class ThemeDetailApi(APIView):
    permission_classes = [CanManageThemes]

    @extend_schema(tags=["themes"], responses=ThemeSerializer)
    def get(self, request, slug):
        return Response(ThemeSerializer(get_object_or_404(Theme, slug=slug)).data)

    @extend_schema(tags=["themes"], request=ThemeUpdateSerializer, responses=ThemeSerializer)
    def patch(self, request, slug):
        theme = get_object_or_404(Theme, slug=slug)
        body = ThemeUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            taxonomy.theme_update(
                theme=theme, name=data.get("name"), seeds=data.get("seeds"), add_seeds=data.get("add_seeds")
            )
        except ValidationError as exc:
            _refused(exc)
        theme.refresh_from_db()
        return Response(ThemeSerializer(theme).data)

    @extend_schema(tags=["themes"], responses={204: None})
    def delete(self, request, slug):
        taxonomy.theme_delete(theme=get_object_or_404(Theme, slug=slug))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ThemeMergeApi(APIView):
    permission_classes = [CanManageThemes]

    @extend_schema(tags=["themes"], request=ThemeMergeSerializer, responses=ThemeSerializer)
    def post(self, request, slug):
        theme = get_object_or_404(Theme, slug=slug)
        body = ThemeMergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            into = taxonomy.theme_merge(theme=theme, into=body.validated_data["into"])
        except ValidationError as exc:
            _refused(exc)
        return Response(ThemeSerializer(into).data)


class CandidateListApi(APIView):
    permission_classes = [CanManageThemes]

    @extend_schema(tags=["themes"], responses=CandidateSerializer(many=True))
    def get(self, request):
        candidates = ThemeCandidate.objects.filter(status=ThemeCandidate.Status.OPEN).select_related("theme")
        return Response({"candidates": CandidateSerializer(candidates, many=True).data, "status": analysis.status()})


class CandidatePromoteApi(APIView):
    permission_classes = [CanManageThemes]

    @extend_schema(tags=["themes"], request=PromoteSerializer, responses={201: ThemeSerializer})
    def post(self, request, candidate_id):
        candidate = get_object_or_404(ThemeCandidate, pk=candidate_id)
        body = PromoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            theme = taxonomy.candidate_promote(candidate=candidate, **body.validated_data)
        except ValidationError as exc:
            _refused(exc)
        return Response(ThemeSerializer(theme).data, status=status.HTTP_201_CREATED)


class CandidateDismissApi(APIView):
    permission_classes = [CanManageThemes]

    @extend_schema(tags=["themes"], request=None, responses=CandidateSerializer)
    def post(self, request, candidate_id):
        candidate = get_object_or_404(ThemeCandidate, pk=candidate_id)
        try:
            candidate = taxonomy.candidate_dismiss(candidate=candidate)
        except ValidationError as exc:
            _refused(exc)
        return Response(CandidateSerializer(candidate).data)
