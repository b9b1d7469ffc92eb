"""The JSON of `/api/webhook-subscriptions/`."""

from rest_framework import serializers

from integrations.models import WebhookSubscription


class WebhookSubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    url = serializers.URLField(max_length=500)
    secret = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="Signs each body; empty: a random one is made."
    )
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookSubscription.Event.choices))
    is_active = serializers.BooleanField(required=False, default=True)
    created_at = serializers.DateTimeField(read_only=True)
