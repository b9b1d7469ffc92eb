from django.urls import path

from insights.api import (
    CandidateDismissApi,
    CandidateListApi,
    CandidatePromoteApi,
    ThemeDetailApi,
    ThemeListApi,
    ThemeMergeApi,
)

urlpatterns = [
    path("themes/", ThemeListApi.as_view(), name="api-themes"),
    path("themes/<slug:slug>/", ThemeDetailApi.as_view(), name="api-theme"),
    path("themes/<slug:slug>/merge/", ThemeMergeApi.as_view(), name="api-theme-merge"),
    path("theme-candidates/", CandidateListApi.as_view(), name="api-theme-candidates"),
    path("theme-candidates/<int:candidate_id>/promote/", CandidatePromoteApi.as_view(), name="api-theme-promote"),
    path("theme-candidates/<int:candidate_id>/dismiss/", CandidateDismissApi.as_view(), name="api-theme-dismiss"),
]
