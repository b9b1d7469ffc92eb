"""`/api/webhook-subscriptions/`: managers and admin-scoped API keys manage outgoing webhook subscriptions.

Parses, calls one `integrations.webhooks` service, shapes JSON. (`/api/connectors/` is console.api's: its
writes are audited.)
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from config.api import ERROR_RESPONSES
from feedback.models import User
from integrations.models import WebhookDelivery, WebhookSubscription
from integrations.serializers import (
    WebhookDeliverySerializer,
    WebhookSubscriptionCreatedSerializer,
    WebhookSubscriptionSerializer,
)
from integrations.webhooks import (
    webhook_delivery_replay,
    webhook_subscription_save,
    webhook_subscription_secret_rotate,
)
from surveys.models import ApiKey


class CanManageWebhooks(permissions.BasePermission):
    """A manager, or an API key with the admin scope."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ApiKey):
            self.message = "This API key lacks the admin scope."
            return ApiKey.Scope.ADMIN in request.auth.scopes
        return isinstance(request.user, User) and request.user.is_active and request.user.is_manager


class DeliveriesNewestFirst(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-pk"


@extend_schema(tags=["webhooks"])
class WebhookSubscriptionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Outgoing webhook subscriptions; the URL must resolve to a public address (see the README)."""

    permission_classes = [CanManageWebhooks]
    serializer_class = WebhookSubscriptionSerializer
    queryset = WebhookSubscription.objects.order_by("pk")
    http_method_names = ["get", "post", "patch", "delete"]

    def _save(self, subscription: WebhookSubscription | None, data: dict) -> WebhookSubscription:
        try:
            return webhook_subscription_save(subscription=subscription, **data)
        except ValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from exc

    @extend_schema(responses={201: WebhookSubscriptionCreatedSerializer, **ERROR_RESPONSES})
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = self._save(None, serializer.validated_data)
        # The secret is shown here once; every later GET or PATCH answer leaves it out.
        return Response(WebhookSubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: WebhookSubscriptionSerializer, **ERROR_RESPONSES})
    def partial_update(self, request, pk=None):
        subscription = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        subscription = self._save(subscription, serializer.validated_data)
        return Response(self.get_serializer(subscription).data)

    @extend_schema(
        request=None,
        responses={200: WebhookSubscriptionCreatedSerializer, **ERROR_RESPONSES},
        summary="Give the subscription a new secret, returned this once; the old one signs too during the grace",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """Deliveries carry the signatures of both secrets until `previous_secret_expires_at`, then the new one's."""
        actor = request.auth if isinstance(request.auth, ApiKey) else request.user
        subscription = webhook_subscription_secret_rotate(subscription=self.get_object(), actor=actor)
        response = Response(WebhookSubscriptionCreatedSerializer(subscription).data)
        response["Cache-Control"] = "no-store"  # the secret is in this answer only
        return response

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True)}, summary="The subscription's delivery log")
    @action(detail=True, methods=["get"], pagination_class=DeliveriesNewestFirst)
    def deliveries(self, request, pk=None):
        """Every delivery to the subscription, newest first, cursor-paged."""
        deliveries = self.paginate_queryset(WebhookDelivery.objects.filter(subscription=self.get_object()))
        return self.get_paginated_response(WebhookDeliverySerializer(deliveries, many=True).data)

    @extend_schema(
        request=None,
        responses={201: WebhookDeliverySerializer},
        summary="Send a delivery's event again, as a new delivery with the same event id and body",
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[0-9]{1,18})/replay")
    def replay(self, request, pk=None, delivery_id=None):
        delivery = get_object_or_404(WebhookDelivery, pk=delivery_id, subscription=self.get_object())
        with transaction.atomic():
            replay = webhook_delivery_replay(delivery=delivery)
        return Response(WebhookDeliverySerializer(replay).data, status=status.HTTP_201_CREATED)
