from rest_framework.routers import SimpleRouter

from integrations.api import ConnectorViewSet, WebhookSubscriptionViewSet

router = SimpleRouter()
router.register("webhook-subscriptions", WebhookSubscriptionViewSet, basename="api-webhook-subscriptions")
router.register("connectors", ConnectorViewSet, basename="api-connectors")

urlpatterns = router.urls
