from django import forms
from django.contrib import admin

from integrations.models import ConnectorDelivery, WebhookDelivery, WebhookSubscription, ZendeskNote
from integrations.webhooks import webhook_delivery_replay, webhook_events_check, webhook_secret_new, webhook_url_check


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
            # Shown once, on the creation form; afterwards the field is write-only (blank keeps the secret).
            self.initial.setdefault("secret", webhook_secret_new())
        else:
            self.fields["secret"] = forms.CharField(
                required=False,
                widget=forms.PasswordInput(render_value=False),
                help_text="Kept secret and never shown again; type a new one to replace it.",
            )

    def clean_secret(self):
        secret = self.cleaned_data.get("secret", "")
        return secret or (self.instance.secret if self.instance.pk else webhook_secret_new())

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


class ReadOnlyLogAdmin(admin.ModelAdmin):
    """A log is read, never written by hand: connectors' deliveries and Zendesk notes come from their services."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ConnectorDelivery)
class ConnectorDeliveryAdmin(ReadOnlyLogAdmin):
    list_display = ("received_at", "connector", "topic", "status", "delivery_id")
    list_filter = ("status", "connector")
    search_fields = ("delivery_id", "topic", "detail")
    list_select_related = ("connector",)


@admin.register(ZendeskNote)
class ZendeskNoteAdmin(ReadOnlyLogAdmin):
    list_display = ("created_at", "connector", "ticket_id", "status", "attempts", "written_at")
    list_filter = ("status", "connector")
    search_fields = ("ticket_id", "error")
    list_select_related = ("connector",)
    exclude = ("body",)  # the customer's comment: read on the answer's own page
