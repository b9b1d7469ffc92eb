from django.urls import path

from surveys.api import EventBatchApi, EventCreateApi, StagedBatchCreateApi, StagedBatchDetailApi

# `/api/trigger-rules/` is the console's (console/api_urls.py): its writes are recorded in the audit trail.
urlpatterns = [
    path("events/", EventCreateApi.as_view(), name="api-events"),
    path("events/batch/", EventBatchApi.as_view(), name="api-events-batch"),
    path("events/batches/", StagedBatchCreateApi.as_view(), name="api-event-batches"),
    path("events/batches/<uuid:public_id>/", StagedBatchDetailApi.as_view(), name="api-event-batch"),
]
