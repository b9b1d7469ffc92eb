from django.urls import path

from surveys.api import EventBatchApi, EventCreateApi

# `/api/trigger-rules/` is the console's (console/api_urls.py): its writes are recorded in the audit trail.
urlpatterns = [
    path("events/", EventCreateApi.as_view(), name="api-events"),
    path("events/batch/", EventBatchApi.as_view(), name="api-events-batch"),
]
