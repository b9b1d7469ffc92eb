from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from feedback.models import (
    ApiKeyTeam,
    FollowUp,
    FollowUpEntry,
    RootCause,
    RoutingRule,
    Team,
    User,
    WebhookDelivery,
    WebhookSubscription,
)
from feedback.webhooks import webhook_delivery_replay, webhook_events_check, webhook_secret_new, webhook_url_check


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "role", "team", "is_active", "last_login")
    list_filter = ("role", "team", "is_active")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "role", "team")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "role", "team", "password1", "password2")}),)


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


@admin.register(ApiKeyTeam)
class ApiKeyTeamAdmin(admin.ModelAdmin):
    list_display = ("api_key", "team")


class WebhookSubscriptionAdminForm(forms.ModelForm):
    """The URL must resolve to an address Closeloop may post to, checked here and again at each delivery."""

    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=WebhookSubscription.Event.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "secret", "events", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial.setdefault("secret", webhook_secret_new())

    def clean_url(self):
        try:
            webhook_url_check(self.cleaned_data["url"])
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["url"]) from exc
        return self.cleaned_data["url"]

    def clean_events(self):
        try:
            webhook_events_check(self.cleaned_data["events"])
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["events"]) from exc
        return self.cleaned_data["events"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionAdminForm
    list_display = ("name", "url", "is_active", "created_at")
    list_filter = ("is_active",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only, with a replay action that sends an event again as a new delivery."""

    list_display = (
        "pk",
        "event_type",
        "subscription",
        "status",
        "attempts",
        "response_code",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event_type", "subscription")
    search_fields = ("event_id",)
    actions = ["replay"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Replay the selected deliveries")
    def replay(self, request, queryset):
        for delivery in queryset.select_related("subscription"):
            webhook_delivery_replay(delivery=delivery)
        self.message_user(request, f"{queryset.count()} deliveries queued again.")
