import json

from django.contrib import admin
from django.template.response import TemplateResponse

from config.observability.logging import path_scrub
from notifications.models import InboundEmail, Message, Suppression
from notifications.selectors import messages_unsettled
from notifications.services.queue import message_resend


class OutcomeFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [("unsettled", "Unknown past the grace period (needs a decision)")]

    def queryset(self, request, queryset):
        if self.value() == "unsettled":
            return queryset.filter(id__in=messages_unsettled().values("id"))
        return queryset


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("public_id", "channel", "recipient", "status", "attempts", "created_at", "sent_at")
    list_filter = (OutcomeFilter, "channel", "status")
    search_fields = ("public_id", "provider_message_id", "recipient")
    # Stored bodies hold the survey and unsubscribe links, whose tokens answer and unsubscribe for the
    # customer: the admin shows them with the tokens taken out, and never the raw fields.
    exclude = ("body_text", "body_html", "headers")
    readonly_fields = (
        "public_id",
        "created_at",
        "updated_at",
        "sent_at",
        "resent_as",
        "text_without_tokens",
        "html_without_tokens",
        "headers_without_tokens",
    )
    actions = ["resend"]

    @admin.display(description="Body (text), links' tokens hidden")
    def text_without_tokens(self, message: Message) -> str:
        return path_scrub(message.body_text)

    @admin.display(description="Body (HTML source), links' tokens hidden")
    def html_without_tokens(self, message: Message) -> str:
        return path_scrub(message.body_html)

    @admin.display(description="Headers, links' tokens hidden")
    def headers_without_tokens(self, message: Message) -> str:
        return path_scrub(json.dumps(message.headers, ensure_ascii=False))

    @admin.action(description="Resend selected messages whose outcome is unknown (may send twice)")
    def resend(self, request, queryset):
        unknown = list(queryset.filter(status=Message.Status.UNKNOWN, resent_as__isnull=True).order_by("id"))
        if request.POST.get("confirm") != "yes":
            # An action runs at once by default; this one may double a message, so it asks first.
            return TemplateResponse(
                request,
                "notifications/admin_resend_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Resend messages whose outcome is unknown?",
                    "messages_to_resend": unknown,
                    "skipped": queryset.count() - len(unknown),
                    "selected_ids": [str(pk) for pk in queryset.values_list("pk", flat=True)],
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                    "opts": self.model._meta,
                },
            )
        resent = [message_resend(message_id=message.id, by=request.user.get_username()) for message in unknown]
        count = sum(copy is not None for copy in resent)
        self.message_user(request, f"Queued {count} copy(ies); {queryset.count() - count} message(s) left alone.")
        return None


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("channel", "recipient", "reason", "source", "created_at")
    list_filter = ("channel", "reason")
    search_fields = ("recipient",)
    readonly_fields = ("created_at",)


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ("received_at", "outcome", "thread", "subject")
    list_filter = ("outcome",)
    readonly_fields = [field.name for field in InboundEmail._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
