from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from feedback.models import ApiKeyTeam, CannedReply, FollowUp, FollowUpEntry, RootCause, RoutingRule, Team, User
from feedback.services.conversation import canned_reply_save
from feedback.services.notices import follow_up_announce
from feedback.services.routing_rules import routing_rule_save


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "role", "team", "is_active", "last_login")
    list_filter = ("role", "team", "is_active")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "role", "team", "time_zone")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "role", "team", "password1", "password2")}),)

    def get_readonly_fields(self, request, obj=None):
        # A manager administers people but cannot make anyone (themselves included) a superuser or
        # hand out Django permissions: only a superuser can.
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ("is_superuser", "groups", "user_permissions")
        return readonly


class TeamAdminForm(forms.ModelForm):
    """Business-hours settings are checked here so a typo cannot break every due date of the team."""

    # A pasted "hooks.slack.com/..." means https, as Slack serves nothing else (and Django 6 assumes it).
    slack_webhook_url = forms.URLField(
        assume_scheme="https",
        required=False,
        label="Slack webhook URL",
        help_text=Team._meta.get_field("slack_webhook_url").help_text,
    )

    class Meta:
        model = Team
        fields = [
            "name",
            "sla_hours",
            "time_zone",
            "working_days",
            "opens_at",
            "closes_at",
            "holidays",
            "lead",
            "slack_webhook_url",
            "reply_from_email",
        ]

    def clean_time_zone(self):
        try:
            ZoneInfo(self.cleaned_data["time_zone"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise forms.ValidationError("Enter an IANA time zone, e.g. Europe/Paris.") from exc
        return self.cleaned_data["time_zone"]

    def clean_working_days(self):
        days = [day.strip() for day in self.cleaned_data["working_days"].split(",") if day.strip()]
        if not days or any(day not in "0123456" or len(day) != 1 for day in days):
            raise forms.ValidationError("List weekdays as numbers 0 (Monday) to 6, e.g. 0,1,2,3,4.")
        return ",".join(days)

    def clean_holidays(self):
        holidays = self.cleaned_data["holidays"]
        try:
            return sorted({date.fromisoformat(day).isoformat() for day in holidays})
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError('List days as ["YYYY-MM-DD", ...].') from exc

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("opens_at") and cleaned.get("closes_at") and cleaned["opens_at"] >= cleaned["closes_at"]:
            self.add_error("closes_at", "Closing time must be after opening time.")
        return cleaned


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamAdminForm
    list_display = ("name", "sla_hours", "time_zone", "opens_at", "closes_at", "lead")


@admin.register(RootCause)
class RootCauseAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "outside_agent_control")


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = (
        "position",
        "survey",
        "kind",
        "score_min",
        "score_max",
        "opens_follow_up",
        "team",
        "assignment",
        "fix_check_survey",
        "is_active",
    )
    list_editable = ("is_active",)

    def save_model(self, request, obj, form, change) -> None:
        routing_rule_save(rule=obj)


class FollowUpEntryInline(admin.TabularInline):
    model = FollowUpEntry
    extra = 0
    readonly_fields = ("kind", "author", "body", "created_at")


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "team",
        "assignee",
        "status",
        "priority",
        "outcome",
        "fix_confirmed",
        "due_at",
        "created_at",
    )
    list_filter = ("status", "priority", "outcome", "fix_confirmed", "team")
    raw_id_fields = ("response",)
    inlines = [FollowUpEntryInline]

    def save_model(self, request, obj, form, change) -> None:
        # An edit here bypasses the services: announce it as they do, so rollups and webhooks follow.
        super().save_model(request, obj, form, change)
        follow_up_announce(obj, "follow_up.updated")


@admin.register(ApiKeyTeam)
class ApiKeyTeamAdmin(admin.ModelAdmin):
    list_display = ("api_key", "team")


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    """Until the console's manager UI: the form checks choices, lengths and the unique title; saving goes through
    the service."""

    fields = ("team", "locale", "title", "body", "is_active")
    list_display = ("title", "team", "locale", "is_active")
    list_filter = ("team", "locale", "is_active")
    search_fields = ("title", "body")

    def save_model(self, request, obj, form, change):
        canned_reply_save(
            canned=obj,
            team=obj.team,
            locale=obj.locale,
            title=obj.title,
            body=obj.body,
            is_active=obj.is_active,
        )
