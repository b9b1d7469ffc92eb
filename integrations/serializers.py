"""The JSON of `/api/webhook-subscriptions/` and `/api/connectors/`."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations.connector_mapping import ZENDESK_BODY
from integrations.connectors import connector_setup_steps, connector_url
from integrations.models import Connector, ConnectorDelivery, WebhookDelivery, WebhookSubscription
from integrations.zendesk import zendesk_notes_summary
from surveys.api import json_storable


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
    previous_secret_expires_at = serializers.DateTimeField(
        read_only=True,
        help_text="After a rotation: until when deliveries are signed with the replaced secret too; null if never.",
    )


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    """The answer to a creation or a rotation: the one time the secret is shown."""

    secret = serializers.CharField(read_only=True)


class WebhookDeliverySerializer(serializers.Serializer):
    """One event sent (or being sent) to a subscription: the delivery log."""

    id = serializers.IntegerField()
    event_type = serializers.CharField()
    event_id = serializers.CharField(help_text="The same on every delivery of one event, replays included.")
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices)
    attempts = serializers.IntegerField()
    response_code = serializers.IntegerField(allow_null=True, help_text="The receiver's last HTTP status.")
    error = serializers.CharField(help_text="Why the last attempt failed; empty when it did not.")
    created_at = serializers.DateTimeField()
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    replay_of = serializers.IntegerField(source="replay_of_id", allow_null=True)


class ZendeskNotesSerializer(serializers.Serializer):
    written = serializers.IntegerField()
    pending = serializers.IntegerField()
    failed = serializers.IntegerField()
    last_error = serializers.CharField()
    last_failed_ticket = serializers.CharField()


class ZendeskCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()


class ConnectorSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=Connector.Kind.choices)
    # Shown once, in the answer to the POST that created the connector; never read back afterwards.
    secret = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Shopify's app or webhook signing secret, Zendesk's signing secret, Stripe's whsec_ secret; "
        "generic: empty makes one. Returned only when the connector is created.",
    )
    event_type = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="The event deliveries become; empty: the source's usual one (generic connectors need one).",
    )
    field_map = serializers.JSONField(
        required=False,
        default=dict,
        help_text='Generic connectors: RFC 6901 JSON pointers, e.g. {"email": "/customer/email", '
        '"event_id": "/id", "properties": {"plan": "/plan/name"}}.',
    )
    is_active = serializers.BooleanField(required=False, default=True)
    zendesk_writeback = serializers.BooleanField(
        required=False, default=False, help_text="Zendesk: write each answer on its ticket as an internal note."
    )
    zendesk_url = serializers.URLField(max_length=200, required=False, allow_blank=True, default="")
    zendesk_email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    zendesk_api_token = serializers.CharField(
        max_length=200, required=False, allow_blank=True, write_only=True, help_text="Never returned."
    )
    url = serializers.SerializerMethodField(help_text="The address to paste into the other system.")
    setup_steps = serializers.SerializerMethodField()
    zendesk_body = serializers.SerializerMethodField(help_text="Zendesk: the JSON body of the trigger's action.")
    has_secret = serializers.SerializerMethodField()
    zendesk_notes = serializers.SerializerMethodField(
        help_text="Zendesk: notes written, pending and failed, and the latest failure's reason; null otherwise."
    )
    refused_count = serializers.IntegerField(read_only=True)
    last_refused_at = serializers.DateTimeField(read_only=True)
    last_refused_reason = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def validate_field_map(self, value):
        return json_storable(value)

    def get_url(self, connector) -> str:
        return connector_url(connector)

    def get_setup_steps(self, connector) -> list[str]:
        return connector_setup_steps(connector)

    def get_zendesk_body(self, connector) -> str | None:
        return ZENDESK_BODY if connector.kind == Connector.Kind.ZENDESK else None

    def get_has_secret(self, connector) -> bool:
        return bool(connector.secret)

    @extend_schema_field(ZendeskNotesSerializer(allow_null=True))
    def get_zendesk_notes(self, connector) -> dict | None:
        return zendesk_notes_summary(connector) if connector.kind == Connector.Kind.ZENDESK else None


class ConnectorCreatedSerializer(ConnectorSerializer):
    """The answer to a creation: the one time the secret is shown."""

    secret = serializers.CharField(read_only=True)


class ConnectorDeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    delivery_id = serializers.CharField(read_only=True, help_text="The source's id of the delivery or event.")
    topic = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=ConnectorDelivery.Status.choices, read_only=True)
    detail = serializers.CharField(read_only=True)
    event = serializers.IntegerField(source="event_id", read_only=True, allow_null=True)
    payload = serializers.JSONField(read_only=True, help_text="Null once retention or an erasure emptied it.")
    received_at = serializers.DateTimeField(read_only=True)
    processed_at = serializers.DateTimeField(read_only=True)
