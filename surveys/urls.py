from django.urls import path

from surveys.views import survey_respond
from surveys.widget_api import WidgetAnswerApi, WidgetSurveyApi, snippet

urlpatterns = [
    path("s/<str:token>/", survey_respond, name="survey-respond"),
    path("web/snippet.js", snippet, name="web-snippet"),
    path("web/v1/<str:key>/survey", WidgetSurveyApi.as_view(), name="web-survey"),
    path("web/v1/<str:key>/answer", WidgetAnswerApi.as_view(), name="web-answer"),
]
