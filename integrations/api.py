"""`/api/webhook-subscriptions/` and `/api/connectors/`: managers and admin-scoped API keys manage outgoing
webhook subscriptions and incoming connectors.

Parses, calls one `integrations.webhooks` or `integrations.connectors` service, shapes JSON.
"""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from config.api import ERROR_RESPONSES
from feedback.models import User
from integrations.connectors import connector_delete, connector_save, connector_test_delivery
from integrations.models import Connector, WebhookSubscription
from integrations.serializers import (
    ConnectorCreatedSerializer,
    ConnectorDeliverySerializer,
    ConnectorSerializer,
    WebhookSubscriptionCreatedSerializer,
    WebhookSubscriptionSerializer,
)
from integrations.webhooks import webhook_subscription_save
from integrations.zendesk import zendesk_notes_retry_failed
from surveys.models import ApiKey


class CanManageWebhooks(permissions.BasePermission):
    """A manager, or an API key with the admin scope."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ApiKey):
            self.message = "This API key lacks the admin scope."
            return ApiKey.Scope.ADMIN in request.auth.scopes
        return isinstance(request.user, User) and request.user.is_active and request.user.is_manager


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


class DeliveriesNewestFirst(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-pk"


@extend_schema(tags=["connectors"])
class ConnectorViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Connectors: addresses Shopify, Zendesk, Stripe or any signed webhook post to (docs/connectors/)."""

    permission_classes = [CanManageWebhooks]
    serializer_class = ConnectorSerializer
    queryset = Connector.objects.order_by("pk")
    http_method_names = ["get", "post", "patch", "delete"]

    def _save(self, connector: Connector | None, data: dict) -> Connector:
        try:
            return connector_save(connector=connector, **data)
        except ValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from exc

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
        connector_delete(connector=instance)

    @extend_schema(responses={200: ConnectorDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The connector's delivery log, newest first: what each verified delivery became, or why nothing."""
        connector = self.get_object()
        paginator = DeliveriesNewestFirst()
        page = paginator.paginate_queryset(connector.deliveries.all(), request, view=self)
        return paginator.get_paginated_response(ConnectorDeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={201: ConnectorDeliverySerializer})
    @action(detail=True, methods=["post"], url_path="test-delivery")
    def test_delivery(self, request, pk=None):
        """Sign a sample delivery of the source with the connector's secret and run it through verification,
        mapping and the trigger rules; it is logged as a test, nothing is ingested or sent."""
        delivery = connector_test_delivery(connector=self.get_object())
        return Response(ConnectorDeliverySerializer(delivery).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ConnectorSerializer})
    @action(detail=True, methods=["post"], url_path="retry-zendesk-notes")
    def retry_zendesk_notes(self, request, pk=None):
        """Try the failed notes again, once the token or the address is fixed; answers the connector."""
        connector = self.get_object()
        zendesk_notes_retry_failed(connector=connector)
        return Response(self.get_serializer(connector).data)
