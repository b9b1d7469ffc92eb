from django.urls import path

from feedback.api import (
    FollowUpDetailApi,
    FollowUpListApi,
    FollowUpNoteApi,
    FollowUpReplyApi,
    FollowUpResolveApi,
    FollowUpThreadApi,
)

urlpatterns = [
    path("follow-ups/", FollowUpListApi.as_view(), name="api-follow-ups"),
    path("follow-ups/<int:follow_up_id>/", FollowUpDetailApi.as_view(), name="api-follow-up"),
    path("follow-ups/<int:follow_up_id>/notes/", FollowUpNoteApi.as_view(), name="api-follow-up-notes"),
    path("follow-ups/<int:follow_up_id>/resolve/", FollowUpResolveApi.as_view(), name="api-follow-up-resolve"),
    path("follow-ups/<int:follow_up_id>/replies/", FollowUpReplyApi.as_view(), name="api-follow-up-replies"),
    path("follow-ups/<int:follow_up_id>/thread/", FollowUpThreadApi.as_view(), name="api-follow-up-thread"),
]
