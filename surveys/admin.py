from django import forms
from django.conf import settings
from django.contrib import admin
from django.db import models

from surveys.conditions import conditions_errors
from surveys.models import Answer, ApiKey, Contact, Event, Invitation, Question, Response, Survey, TriggerRule
from surveys.services.api_keys import api_keys_revoke
from surveys.services.privacy import contact_erase


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "email", "phone", "locale", "external_id", "created_at", "erased_at")
    search_fields = ("email", "phone", "name", "external_id")

    # Deleting a contact here is a person's erasure with their answers (as Delighted's delete): every message,
    # text, webhook payload and count of theirs goes too, and the audit trail records it (docs/privacy.md).
    def delete_model(self, request, obj: Contact) -> None:
        contact_erase(contact=obj, hard=True, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for contact in queryset.order_by("pk"):
            contact_erase(contact=contact, hard=True, actor=request.user)


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    fields = ("position", "kind", "text", "choices", "scale_max", ("show_if_score_min", "show_if_score_max"))


def _https_by_default(field: models.Field, **kwargs) -> forms.Field:
    # Django 6 assumes https for a typed URL without a scheme; say so now rather than warn.
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class SurveyForm(forms.ModelForm):
    class Meta:
        model = Survey
        formfield_callback = _https_by_default
        fields = [
            "name",
            "kind",
            "product_name",
            "question_text",
            "default_locale",
            "low_label",
            "high_label",
            "thank_you_text",
            "thank_you_link_url",
            "reminder_after_days",
            "is_active",
            "is_fix_check",
        ]

    def clean_reminder_after_days(self):
        days = self.cleaned_data["reminder_after_days"]
        # A reminder goes only while the link still records answers.
        if days is not None and not 1 <= days < settings.INVITATION_EXPIRY_DAYS:
            raise forms.ValidationError(
                f"Give a number of days from 1 to {settings.INVITATION_EXPIRY_DAYS - 1}, before survey links expire "
                f"(INVITATION_EXPIRY_DAYS = {settings.INVITATION_EXPIRY_DAYS}), or leave it empty for no reminder."
            )
        return days


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    form = SurveyForm
    # The admin builds its form fields itself; the same https default as SurveyForm's.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("name", "kind", "reminder_after_days", "is_active", "created_at")
    list_filter = ("kind", "is_active", "is_fix_check")
    inlines = [QuestionInline]


class TriggerRuleForm(forms.ModelForm):
    class Meta:
        model = TriggerRule
        fields = [
            "event_type",
            "survey",
            "channel",
            "conditions",
            "delay",
            "sample_rate",
            "expiry",
            "cancel_on_event_types",
            "match_property",
            "is_active",
        ]

    def clean_conditions(self):
        errors = conditions_errors(self.cleaned_data["conditions"])
        if errors:
            raise forms.ValidationError(errors)
        return self.cleaned_data["conditions"]

    def clean_sample_rate(self):
        rate = self.cleaned_data["sample_rate"]
        if not 0 <= rate <= 1:
            raise forms.ValidationError("Give a share from 0 to 1.")
        return rate


@admin.register(TriggerRule)
class TriggerRuleAdmin(admin.ModelAdmin):
    form = TriggerRuleForm
    list_display = ("event_type", "survey", "channel", "delay", "sample_rate", "cancel_on_event_types", "is_active")
    list_filter = ("channel", "is_active")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("type", "external_id", "source", "contact", "occurred_at")
    list_filter = ("type",)
    search_fields = ("external_id",)
    raw_id_fields = ("contact",)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("public_id", "survey", "contact", "channel", "status", "cancel_reason", "scheduled_at")
    list_filter = ("status", "channel", "survey")
    raw_id_fields = ("contact", "event", "message")
    exclude = ("token_hash",)


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    fields = ("question", "value", "updated_at")
    readonly_fields = ("question", "value", "updated_at")
    can_delete = False


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ("survey", "contact", "score", "confirmed_at")
    list_filter = ("survey",)
    raw_id_fields = ("invitation", "contact")
    inlines = [AnswerInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "scopes", "survey", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        # A key is shown once, when created: `manage.py create_api_key` prints it.
        return False

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset):
        count = api_keys_revoke(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Revoked {count} API key(s).")
