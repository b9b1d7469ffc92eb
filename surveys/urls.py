from django.urls import path

from surveys.link_views import link_qr_png, link_qr_svg, link_respond
from surveys.views import survey_respond
from surveys.widget_api import WidgetAnswerApi, WidgetSurveyApi, snippet

urlpatterns = [
    path("s/<str:token>/", survey_respond, name="survey-respond"),
    path("web/snippet.js", snippet, name="web-snippet"),
    path("web/v1/<str:key>/survey", WidgetSurveyApi.as_view(), name="web-survey"),
    path("web/v1/<str:key>/answer", WidgetAnswerApi.as_view(), name="web-answer"),
    path("l/<slug:slug>/", link_respond, name="survey-link"),
    path("l/<slug:slug>/qr.svg", link_qr_svg, name="survey-link-qr-svg"),
    path("l/<slug:slug>/qr.png", link_qr_png, name="survey-link-qr-png"),
]
