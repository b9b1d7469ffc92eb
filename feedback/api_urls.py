from django.urls import path

from feedback.api import FollowUpDetailApi, FollowUpListApi, FollowUpNoteApi, FollowUpResolveApi

urlpatterns = [
    path("", FollowUpListApi.as_view(), name="api-follow-ups"),
    path("<int:follow_up_id>/", FollowUpDetailApi.as_view(), name="api-follow-up"),
    path("<int:follow_up_id>/notes/", FollowUpNoteApi.as_view(), name="api-follow-up-notes"),
    path("<int:follow_up_id>/resolve/", FollowUpResolveApi.as_view(), name="api-follow-up-resolve"),
]
