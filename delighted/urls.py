from django.urls import re_path

from delighted.api import (
    AutopilotConfigurationApi,
    AutopilotMembershipsApi,
    BouncesApi,
    PendingSurveyRequestsApi,
    PeopleApi,
    PersonDeleteApi,
    SurveyResponseApi,
    SurveyResponsesApi,
    UnsubscribesApi,
)
from delighted.metrics import MetricsApi
from delighted.schema import annotate

annotate()

# Delighted's documented URLs end in `.json`; the official client omits it. Both work.
J = r"(?:\.json)?$"

urlpatterns = [
    re_path(rf"^metrics{J}", MetricsApi.as_view(), name="delighted-metrics"),
    re_path(rf"^people{J}", PeopleApi.as_view(), name="delighted-people"),
    re_path(rf"^people/(?P<email>[^/]+)/survey_requests/pending{J}", PendingSurveyRequestsApi.as_view()),
    re_path(rf"^people/(?P<identifier>[^/]+?){J}", PersonDeleteApi.as_view(), name="delighted-person"),
    re_path(rf"^survey_responses{J}", SurveyResponsesApi.as_view(), name="delighted-survey-responses"),
    re_path(rf"^survey_responses/(?P<pk>[^/]+?){J}", SurveyResponseApi.as_view(), name="delighted-survey-response"),
    re_path(rf"^unsubscribes{J}", UnsubscribesApi.as_view(), name="delighted-unsubscribes"),
    re_path(rf"^bounces{J}", BouncesApi.as_view(), name="delighted-bounces"),
    re_path(rf"^autopilot/(?P<platform>email|sms){J}", AutopilotConfigurationApi.as_view()),
    re_path(rf"^autopilot/(?P<platform>email|sms)/memberships{J}", AutopilotMembershipsApi.as_view()),
]
