from django.urls import path
from rest_framework.routers import SimpleRouter

from console.api import (
    ApiKeyViewSet,
    AuditEntryViewSet,
    BrandingApi,
    CannedReplyViewSet,
    ConnectorViewSet,
    ContactViewSet,
    PublishableKeyViewSet,
    ResponseViewSet,
    RootCauseViewSet,
    RoutingRuleViewSet,
    SlackChannelsApi,
    SurveyViewSet,
    TeamViewSet,
    TriggerRuleViewSet,
    UserViewSet,
)

router = SimpleRouter()
router.register("surveys", SurveyViewSet, basename="api-surveys")
router.register("contacts", ContactViewSet, basename="api-contacts")
router.register("responses", ResponseViewSet, basename="api-responses")
router.register("trigger-rules", TriggerRuleViewSet, basename="api-trigger-rules")
router.register("routing-rules", RoutingRuleViewSet, basename="api-routing-rules")
router.register("teams", TeamViewSet, basename="api-teams")
router.register("canned-replies", CannedReplyViewSet, basename="api-canned-replies")
router.register("root-causes", RootCauseViewSet, basename="api-root-causes")
router.register("users", UserViewSet, basename="api-users")
router.register("api-keys", ApiKeyViewSet, basename="api-api-keys")
router.register("publishable-keys", PublishableKeyViewSet, basename="api-publishable-keys")
router.register("audit-trail", AuditEntryViewSet, basename="api-audit-trail")
router.register("connectors", ConnectorViewSet, basename="api-connectors")

urlpatterns = [
    path("branding/", BrandingApi.as_view(), name="api-branding"),
    path("slack-channels/", SlackChannelsApi.as_view(), name="api-slack-channels"),
    *router.urls,
]
