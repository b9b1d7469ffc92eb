from django.urls import path

from surveys.views import survey_respond

urlpatterns = [
    path("s/<str:token>/", survey_respond, name="survey-respond"),
]
