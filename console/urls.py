from django.urls import path

from console import views

urlpatterns = [
    path("settings/", views.home, name="console"),
    path("settings/surveys/", views.survey_list, name="console-surveys"),
    path("settings/surveys/new/", views.survey_edit, name="console-survey-new"),
    path("settings/surveys/<int:survey_id>/", views.survey_edit, name="console-survey-edit"),
    path("settings/surveys/<int:survey_id>/duplicate/", views.survey_duplicate, name="console-survey-duplicate"),
    path("settings/surveys/<int:survey_id>/pause/", views.survey_pause, name="console-survey-pause"),
    path("settings/surveys/<int:survey_id>/preview/", views.survey_preview, name="console-survey-preview"),
    path("settings/surveys/<int:survey_id>/preview/page/", views.survey_preview_page, name="console-survey-page"),
    path("settings/surveys/<int:survey_id>/send-test/", views.survey_send_test, name="console-survey-send-test"),
    path("settings/trigger-rules/", views.trigger_rule_list, name="console-triggers"),
    path("settings/trigger-rules/dry-run/", views.trigger_rules_dry_run, name="console-triggers-dry-run"),
    path("settings/trigger-rules/new/", views.trigger_rule_edit, name="console-trigger-new"),
    path("settings/trigger-rules/<int:rule_id>/", views.trigger_rule_edit, name="console-trigger-edit"),
    path("settings/routing-rules/", views.routing_rule_list, name="console-routing"),
    path("settings/routing-rules/new/", views.routing_rule_edit, name="console-routing-new"),
    path("settings/routing-rules/<int:rule_id>/", views.routing_rule_edit, name="console-routing-edit"),
    path("settings/teams/", views.team_list, name="console-teams"),
    path("settings/teams/new/", views.team_edit, name="console-team-new"),
    path("settings/teams/<int:team_id>/", views.team_edit, name="console-team-edit"),
    path("settings/root-causes/new/", views.root_cause_edit, name="console-root-cause-new"),
    path("settings/root-causes/<int:root_cause_id>/", views.root_cause_edit, name="console-root-cause-edit"),
    path("settings/people/", views.people, name="console-people"),
    path("settings/people/<int:user_id>/", views.person_edit, name="console-person-edit"),
    path("settings/api-keys/", views.api_keys, name="console-api-keys"),
    path("settings/api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="console-api-key-revoke"),
    path("settings/audit-trail/", views.audit_trail, name="console-audit"),
    path("settings/branding/", views.branding, name="console-branding"),
    path("settings/surveys/<int:survey_id>/branding/", views.branding, name="console-survey-branding"),
]
