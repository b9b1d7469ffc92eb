"""The JSON of `/api/webhook-subscriptions/`."""

from rest_framework import serializers

from integrations.models import WebhookSubscription


class WebhookSubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    url = serializers.URLField(max_length=500)
    # Shown once, in the answer to the POST that created the subscription; never read back afterwards.
    secret = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Signs each body; empty: a random one is made. Returned only when the subscription is created.",
    )
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookSubscription.Event.choices))
    is_active = serializers.BooleanField(required=False, default=True)
    created_at = serializers.DateTimeField(read_only=True)


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    """The answer to a creation: the one time the secret is shown."""

    secret = serializers.CharField(read_only=True)
