from django.urls import path

from delighted import views

urlpatterns = [
    path("settings/import/delighted/", views.import_start, name="delighted-import-start"),
    path("settings/import/delighted/<int:import_id>/", views.import_progress, name="delighted-import"),
    path("settings/import/delighted/<int:import_id>/columns/", views.import_columns, name="delighted-import-columns"),
    path("settings/import/delighted/<int:import_id>/restart/", views.import_restart, name="delighted-import-restart"),
]
