from django.urls import path

from insights import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export/responses.csv", views.export_responses, name="dashboard-export-responses"),
    path("dashboard/export/follow-ups.csv", views.export_follow_ups, name="dashboard-export-follow-ups"),
    path("dashboard/digest/", views.digest_subscription, name="dashboard-digest"),
]
