from django.urls import path

from insights import theme_views, views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export/responses.csv", views.export_responses, name="dashboard-export-responses"),
    path("dashboard/export/follow-ups.csv", views.export_follow_ups, name="dashboard-export-follow-ups"),
    path("dashboard/digest/", views.digest_subscription, name="dashboard-digest"),
    path("themes/", theme_views.themes, name="themes"),
    path("themes/new/", theme_views.theme_create, name="theme-create"),
    path("themes/<slug:slug>/", theme_views.theme_update, name="theme-update"),
    path("themes/<slug:slug>/merge/", theme_views.theme_merge, name="theme-merge"),
    path(
        "themes/candidates/<int:candidate_id>/promote/", theme_views.candidate_promote, name="theme-candidate-promote"
    ),
    path(
        "themes/candidates/<int:candidate_id>/dismiss/", theme_views.candidate_dismiss, name="theme-candidate-dismiss"
    ),
]
