from rest_framework.routers import SimpleRouter

from integrations.api import WebhookSubscriptionViewSet

router = SimpleRouter()
router.register("webhook-subscriptions", WebhookSubscriptionViewSet, basename="api-webhook-subscriptions")

urlpatterns = router.urls
