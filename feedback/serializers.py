"""The JSON of `/api/follow-ups/`: what goes out (a case, its timeline) and what comes in (filters, changes)."""

from rest_framework import serializers

from feedback.models import FollowUp, FollowUpEntry, Priority, RootCause, User
from feedback.selectors import INBOX_SORTS, INBOX_VIEWS
from surveys.models import AnswerChannel

RESOLVED_OUTCOMES = [FollowUp.Outcome.RECOVERED, FollowUp.Outcome.NOT_RECOVERED, FollowUp.Outcome.UNREACHABLE]
# The statuses a PATCH may ask for (settings.SPECTACULAR_SETTINGS names this set apart from FollowUp.Status).
STATUS_CHANGES = [FollowUp.Status.IN_PROGRESS, FollowUp.Status.WAITING]


class ContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.CharField()
    name = serializers.CharField()
    phone = serializers.CharField()


class SurveySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class CaseResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survey = SurveySerializer()
    score = serializers.IntegerField()
    comment = serializers.CharField()
    confirmed_at = serializers.DateTimeField()
    contact = ContactSerializer()


class FollowUpSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=FollowUp.Status.choices)
    priority = serializers.ChoiceField(choices=Priority.choices)
    team = serializers.CharField(source="team.name")
    assignee = serializers.EmailField(source="assignee.email", allow_null=True, default=None)
    due_at = serializers.DateTimeField()
    outcome = serializers.SerializerMethodField()
    root_cause = serializers.CharField(source="root_cause.name", allow_null=True, default=None)
    resolution_note = serializers.CharField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    response = CaseResponseSerializer()

    def get_outcome(self, follow_up: FollowUp) -> str | None:
        return follow_up.outcome or None


class FollowUpEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=FollowUpEntry.Kind.choices)
    author = serializers.EmailField(source="author.email", allow_null=True, default=None)
    body = serializers.CharField()
    channel = serializers.CharField(help_text="email, sms or whatsapp for replies either way; empty otherwise.")
    created_at = serializers.DateTimeField()


class FollowUpReplySerializer(serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=["email", "sms", "whatsapp"],
        required=False,
        help_text="Default: the channel the customer answered on. WhatsApp only within 24 hours of the customer's"
        " last WhatsApp message.",
    )
    text = serializers.CharField(max_length=1600, help_text="What the customer receives.")


class ExtraAnswerSerializer(serializers.Serializer):
    question = serializers.CharField()
    answer = serializers.CharField()


class ThreadItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["answer", "outgoing", "incoming", "note", "activity"],
        help_text="answer: the survey answer; outgoing: a reply to the customer; incoming: the customer's email or "
        "SMS; note: internal, never sent; activity: assignments, status changes and other audit lines.",
    )
    at = serializers.DateTimeField()
    text = serializers.CharField(help_text="The reason (answer), the message, the note or the audit line.")
    author = serializers.CharField(help_text="Who wrote it (agents' names; empty for the customer or the system).")
    channel = serializers.CharField()
    label = serializers.CharField()
    question = serializers.CharField(help_text="answer only: the survey's question as the customer read it.")
    score = serializers.IntegerField(allow_null=True)
    reason_question = serializers.CharField()
    extra_answers = serializers.SerializerMethodField()
    delivery = serializers.CharField(help_text="outgoing only: the message's delivery status.")

    def get_extra_answers(self, item) -> list[dict]:
        return ExtraAnswerSerializer([{"question": q, "answer": a} for q, a in item.extra_answers], many=True).data


class FollowUpDetailSerializer(FollowUpSerializer):
    entries = FollowUpEntrySerializer(many=True, help_text="The timeline and audit trail, oldest first.")


class FollowUpListQuerySerializer(serializers.Serializer):
    """The inbox's query string; `mine` and `work` need a person, so API keys default to `all`.

    Every filter left out (or empty) means "any".
    """

    view = serializers.ChoiceField(
        choices=INBOX_VIEWS,
        required=False,
        help_text="work: your open cases and your teams' unassigned ones (not snoozed); mine; unassigned; team; "
        "overdue; snoozed; resolved; all. Default: mine for an agent, all for a manager or an API key.",
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Search: customer name, email, phone, external id, or a value of the case's event "
        "(an order or ticket number).",
    )
    status = serializers.ChoiceField(choices=FollowUp.Status.choices, required=False, allow_blank=True)
    survey = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    score = serializers.IntegerField(required=False, min_value=0, max_value=10)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_blank=True)
    due = serializers.ChoiceField(
        choices=["overdue", "today"], required=False, allow_blank=True, help_text="today: in your time zone."
    )
    channel = serializers.ChoiceField(
        choices=AnswerChannel.values,
        required=False,
        allow_blank=True,
        help_text="The channel the customer answered on.",
    )
    sort = serializers.ChoiceField(choices=list(INBOX_SORTS), required=False, default="due")


class FollowUpUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=STATUS_CHANGES,
        required=False,
        help_text="in_progress (reopens a resolved case) or waiting; resolve with POST …/resolve/.",
    )
    assignee = serializers.SlugRelatedField(
        slug_field="email",
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="An agent of the case's team, by email; null puts the case back in the team queue.",
    )
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs:
            raise serializers.ValidationError("Give at least one of status, assignee, priority.")
        return attrs


class FollowUpNoteSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10000)


class FollowUpResolveSerializer(serializers.Serializer):
    root_cause = serializers.SlugRelatedField(
        slug_field="name",
        queryset=RootCause.objects.filter(is_active=True),
        help_text="The name of an active root cause.",
    )
    outcome = serializers.ChoiceField(choices=RESOLVED_OUTCOMES)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
