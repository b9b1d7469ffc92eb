from django.urls import path
from rest_framework.routers import SimpleRouter

from surveys.api import EventBatchApi, EventCreateApi, TriggerRuleViewSet

router = SimpleRouter()
router.register("trigger-rules", TriggerRuleViewSet, basename="api-trigger-rules")

urlpatterns = [
    path("events/", EventCreateApi.as_view(), name="api-events"),
    path("events/batch/", EventBatchApi.as_view(), name="api-events-batch"),
    *router.urls,
]
