from django.contrib import admin

from notifications.models import Message, Suppression


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("public_id", "channel", "recipient", "status", "attempts", "created_at", "sent_at")
    list_filter = ("channel", "status")
    search_fields = ("public_id", "provider_message_id", "recipient")
    readonly_fields = ("public_id", "created_at", "updated_at", "sent_at")


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("channel", "recipient", "reason", "source", "created_at")
    list_filter = ("channel", "reason")
    search_fields = ("recipient",)
    readonly_fields = ("created_at",)
