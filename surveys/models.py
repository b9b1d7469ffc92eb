import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from notifications.models import Message
from surveys.scales import SCALES, pick_locale
from surveys.wording import WORDING


class AnswerChannel(models.TextChoices):
    """Where an invitation reached the customer (a message channel), or where they answered unasked: the
    survey's public link (`/l/<slug>/`, its QR code) or the same link in kiosk mode on a shared device."""

    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    LINK = "link", _("Link or QR code")
    KIOSK = "kiosk", _("Kiosk")
    # The web widget on the company's own site: the invitation is the card shown in the page, no message is
    # sent (`surveys.services.widget`).
    WEB = "web", _("Web widget")


# The answer channels nothing is sent on: an invitation of these only holds an answer given on a public page.
PUBLIC_CHANNELS = (AnswerChannel.LINK, AnswerChannel.KIOSK)


# The web widget's anonymous visitors are contacts whose external id is this prefix and the random id the snippet
# keeps in the host page's localStorage (surveys.services.widget).
VISITOR_PREFIX = "web-visitor:"


class Contact(models.Model):
    """A customer we may ask; matched by external id, then email, then phone."""

    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +33612345678")
    name = models.CharField(max_length=200, blank=True)
    locale = models.CharField(max_length=10, default="en")
    timezone = models.CharField(max_length=64, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when the person was erased but their answers kept as anonymous scores: the row holds nothing else
    # of them (surveys.services.privacy); intake never matches it, having no address nor id.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["email"], condition=~Q(email=""), name="contact_unique_email"),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="contact_unique_external_id"
            ),
        ]
        indexes = [
            # Equality lookups only: declared here rather than with db_index, so PostgreSQL does not also keep
            # a second, pattern-matching copy (varchar_pattern_ops) that nothing reads and every insert writes.
            models.Index(fields=["phone"], name="contact_phone_idx"),
            # The retention purge walks the widget's visitors by age (surveys/retention.py), not every contact.
            models.Index(
                fields=["created_at"],
                condition=Q(external_id__startswith=VISITOR_PREFIX),
                name="contact_visitor_retention_idx",
            ),
        ]

    def __str__(self) -> str:
        if self.erased_at:
            return f"erased contact {self.pk}"
        return self.name or self.email or self.phone or f"contact {self.pk}"


# The longest thank-you message, in any language (a survey's, or an invitation's own from its event).
THANK_YOU_MAX_LENGTH = 500
# The longest end label of a scale, in any language: it sits under a button.
END_LABEL_MAX_LENGTH = 100


class Survey(models.Model):
    class Kind(models.TextChoices):
        NPS = "nps", _("Net Promoter Score (0-10)")
        CSAT = "csat", _("Customer satisfaction (1-5)")
        CES = "ces", _("Customer effort (1-7)")
        FIVE_STAR = "five_star", _("Five stars (1-5)")
        THUMBS = "thumbs", _("Thumbs up / down")

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    product_name = models.CharField(max_length=200, blank=True, help_text="Fills {product} in the question.")
    # Every text a customer reads is per locale; a locale without its own takes the survey's default language's.
    default_locale = models.CharField(
        max_length=10, default="en", help_text="The language whose texts stand in for a language left empty."
    )
    question_text = models.JSONField(
        default=dict, blank=True, help_text='Per-locale override of the question, e.g. {"fr": "..."}.'
    )
    low_label = models.JSONField(
        default=dict, blank=True, help_text="Per-locale label of the scale's lowest score; empty: the kind's."
    )
    high_label = models.JSONField(
        default=dict, blank=True, help_text="Per-locale label of the scale's highest score; empty: the kind's."
    )
    thank_you_text = models.JSONField(
        default=dict, blank=True, help_text='Per-locale thank-you message, e.g. {"en": "Thanks!", "fr": "Merci !"}.'
    )
    thank_you_link_url = models.URLField(blank=True)
    reminder_after_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Remind non-responders once, this many days after the invitation. Empty: never.",
    )
    # Empty: the workspace's default (settings). A trigger rule's own `expiry` wins over `link_expiry_days`.
    link_expiry_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How many days the survey link accepts answers. Empty: INVITATION_EXPIRY_DAYS."
    )
    fatigue_survey_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Don't ask a person this survey again within this many days (0: no limit). "
        "Empty: FATIGUE_SURVEY_DAYS.",
    )
    fatigue_global_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Don't ask a person this survey within this many days of any survey (0: no limit). "
        "Empty: FATIGUE_GLOBAL_DAYS.",
    )
    is_active = models.BooleanField(default=True)
    is_fix_check = models.BooleanField(
        default=False,
        help_text='Asks customers whether their case was fixed ("did we fix it?"); set when a routing rule picks it. '
        "Its answers are left out of the dashboard's all-surveys figures.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def scale(self):
        return SCALES[self.kind]

    def text_in(self, texts: dict, locale: str) -> str:
        """One of the survey's per-locale texts in `locale`, else in its default language, else empty."""
        return texts.get(locale) or texts.get(self.default_locale) or ""

    def question(self, locale: str, product_name: str = "") -> str:
        locale = pick_locale(locale if isinstance(locale, str) else "")
        default = WORDING[locale]["fix_check_question"] if self.is_fix_check else self.scale.question[locale]
        template = self.text_in(self.question_text, locale) or default
        # Rows stored before intake checked its type may hold anything: only text names a product.
        product_name = product_name if isinstance(product_name, str) else ""
        product = product_name or self.product_name or WORDING[locale]["us"]
        return template.replace("{product}", product)

    def end_labels(self, locale: str) -> tuple[str, str]:
        """The words under the lowest and the highest score: the survey's own, else the kind's."""
        locale = pick_locale(locale)
        return (
            self.text_in(self.low_label, locale) or self.scale.low_label[locale],
            self.text_in(self.high_label, locale) or self.scale.high_label[locale],
        )

    def thank_you(self, locale: str) -> str:
        """The survey's thank-you message in `locale` (empty: the page's own thanks)."""
        return self.text_in(self.thank_you_text, pick_locale(locale))

    def asks_reason(self, score: int) -> bool:
        """Whether the reason question follows this score: a "did we fix it?" yes needs none."""
        return not (self.is_fix_check and score > self.scale.detractor_max)

    def reason_prompt(self, locale: str) -> str:
        words = WORDING[pick_locale(locale)]
        return words["fix_check_comment_prompt"] if self.is_fix_check else words["comment_prompt"]


class SurveyLink(models.Model):
    """A survey's public link `/l/<slug>/`: whoever has it (a QR code on a receipt or a table, a shared URL, a
    kiosk at a counter) answers without being invited. Each answer gets an anonymous contact of its own, unless
    the respondent leaves an email to be contacted at."""

    survey = models.OneToOneField(Survey, on_delete=models.CASCADE, related_name="public_link")
    slug = models.SlugField(max_length=40, unique=True, help_text="The link's name: /l/<slug>/.")
    is_enabled = models.BooleanField(default=True, help_text="A disabled link answers visitors that it is closed.")
    kiosk_enabled = models.BooleanField(
        default=False,
        help_text="Allow kiosk mode (/l/<slug>/?kiosk=1): full screen, any number of answers from one device, "
        "back to the start after each thank-you.",
    )
    ask_contact = models.BooleanField(
        default=True, help_text='Offer an optional "may we contact you?" email field with the reason.'
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"/l/{self.slug}/"


class ApiKey(models.Model):
    """A named, scoped credential; the raw key is shown once and only its hash is kept."""

    class Scope(models.TextChoices):
        EVENTS_WRITE = "events:write", _("Send events")
        RESPONSES_READ = "responses:read", _("Read responses")
        ADMIN = "admin", _("Administer")
        FOLLOW_UPS_READ = "follow_ups:read", _("Read follow-ups")
        FOLLOW_UPS_WRITE = "follow_ups:write", _("Work follow-ups")

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The key's first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    survey = models.ForeignKey(
        Survey, null=True, blank=True, on_delete=models.SET_NULL, help_text="Default survey (Delighted's project)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def source(self) -> str:
        return f"api_key:{self.pk}"


class TriggerRule(models.Model):
    """When an event of `event_type` arrives, invite its contact to `survey` after `delay`."""

    class ChannelChoice(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")
        EMAIL_THEN_SMS = "email_then_sms", _("Email, else SMS")
        WHATSAPP = "whatsapp", _("WhatsApp")

    event_type = models.CharField(max_length=100, db_index=True)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="trigger_rules")
    channel = models.CharField(max_length=20, choices=ChannelChoice.choices, default=ChannelChoice.EMAIL)
    delay = models.DurationField(default=timedelta(0))
    conditions = models.JSONField(
        default=list,
        blank=True,
        help_text='All must hold, e.g. [{"property": "amount", "op": "gte", "value": 50}]; '
        "ops: equals, in, exists, gt, gte, lt, lte.",
    )
    sample_rate = models.FloatField(default=1.0, help_text="Share of matching events invited, from 0 to 1.")
    expiry = models.DurationField(
        null=True, blank=True, help_text="How long the survey link accepts answers (default INVITATION_EXPIRY_DAYS)."
    )
    cancel_on_event_types = models.JSONField(
        default=list,
        blank=True,
        help_text='Event types that cancel a pending invitation of this rule, e.g. ["support_ticket_reopened"].',
    )
    match_property = models.CharField(
        max_length=100,
        default="ticket_id",
        blank=True,
        help_text="The property a cancelling event shares with the invitation's event (e.g. the ticket id).",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.event_type} → {self.survey} by {self.channel}"


class Event(models.Model):
    source = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    external_id = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    properties = models.JSONField(default=dict, blank=True)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="events")

    class Meta:
        indexes = [
            models.Index(fields=["received_at"], name="event_received_idx"),  # the retention purge's clock
            models.Index(fields=["type"], name="event_type_idx"),  # as contact_phone_idx: no pattern-matching copy
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], condition=~Q(external_id=""), name="event_unique_source_external_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.external_id or self.pk}"


class IdempotencyKey(models.Model):
    """The first answer to a request sent with an `Idempotency-Key` header, replayed for 24 hours."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while in flight.")
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return self.key


class EventBatch(models.Model):
    """A batch of events accepted at once and expanded into events and invitations by a worker.

    `events` holds the items that passed validation, as validated (`[index, event]`), until the batch is expanded;
    `results` then holds one result per item, as `POST /api/events/batch/` would have answered it (the refused
    items' from the start).
    """

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Waiting for a worker")
        EXPANDED = "expanded", _("Expanded")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="event_batches")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACCEPTED)
    size = models.PositiveSmallIntegerField(help_text="How many items the request held, refused ones included.")
    events = models.JSONField(null=True, blank=True, help_text="The validated events, by index, until expanded.")
    results = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True, help_text="Why the last expansion failed.")
    accepted_at = models.DateTimeField()
    expanded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The sweep reads the batches still waiting, oldest first; the prune reads by age.
            models.Index(fields=["accepted_at"], condition=Q(status="accepted"), name="event_batch_waiting_idx"),
            models.Index(fields=["accepted_at"], name="event_batch_accepted_idx"),
        ]

    def __str__(self) -> str:
        return str(self.public_id)


class Invitation(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        QUEUED = "queued", _("Queued")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    # The `cancel_reason` of the invitation an imported answer (Delighted's history) hangs on: expired at once and
    # never sent, it is left out of the delivery funnel, which describes what was sent from here.
    IMPORTED = "imported"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    token_hash = models.CharField(max_length=64)  # unique: invitation_unique_token_hash
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="invitations")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations")
    trigger_rule = models.ForeignKey(TriggerRule, null=True, blank=True, on_delete=models.SET_NULL)
    channel = models.CharField(max_length=10, choices=AnswerChannel.choices)
    locale = models.CharField(max_length=10, default="en")
    properties = models.JSONField(default=dict, blank=True)
    scheduled_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    cancel_reason = models.CharField(max_length=30, blank=True, help_text="Why it was cancelled or dropped.")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "scheduled_at"]),
            # The scans of live invitations read only those: expiring them (`invitations_expire`) and reminding
            # non-responders cost what is still open, not every invitation ever sent.
            models.Index(
                fields=["expires_at"],
                condition=Q(status__in=["scheduled", "queued"]),
                name="invitation_live_expiry_idx",
            ),
            models.Index(
                fields=["survey", "scheduled_at"],
                condition=Q(status="queued", reminded_at__isnull=True),
                name="invitation_remind_due_idx",
            ),
            # The funnel refresh recounts the invitations created since the oldest open link: read through this
            # index, its cost follows the recent traffic, not the years of history kept.
            models.Index(fields=["created_at"], name="invitation_created_idx"),
        ]
        constraints = [
            # Looked up by equality only: as contact_phone_idx, a constraint keeps no pattern-matching copy.
            models.UniqueConstraint(fields=["token_hash"], name="invitation_unique_token_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.survey} for {self.contact} ({self.status})"


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class Response(models.Model):
    """The customer's answer; exactly one per invitation, updated if they change it."""

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="responses")
    score = models.SmallIntegerField()
    comment = models.TextField(blank=True)
    confirmed_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    tags = models.JSONField(default=list, blank=True, help_text='Labels put on the answer, e.g. ["pricing"].')
    # What `insights` read in the comment (surveys/services/analysis.py writes it); empty until then.
    language = models.CharField(max_length=2, blank=True, help_text="Language of the comment (en, fr).")
    sentiment = models.CharField(max_length=8, blank=True, choices=Sentiment.choices)
    sentiment_confidence = models.FloatField(null=True, blank=True)
    themes = models.JSONField(default=list, blank=True, help_text='Theme slugs of the comment, e.g. ["delivery"].')
    analysis_pending = models.BooleanField(default=False, help_text="The comment changed since it was last read.")
    analysed_at = models.DateTimeField(null=True, blank=True)
    held_reason = models.CharField(
        max_length=30,
        blank=True,
        help_text="Set while an answer judged automatic (a mail scanner?) waits for its browser to confirm it: "
        "it opens no case, sends no webhook and is counted nowhere until then.",
    )
    browser_hash = models.CharField(
        max_length=64, blank=True, editable=False, help_text="SHA-256 of the answering browser's cookie."
    )
    comment_purged_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the retention purge removed the comment; what was read in it (language, sentiment, themes) "
        "stays and is still counted.",
    )

    class Meta:
        indexes = [
            models.Index(fields=["id"], condition=Q(analysis_pending=True), name="response_analysis_pending"),
            # The retention purge walks the comments not yet purged, oldest first; purged ones leave the index.
            models.Index(fields=["confirmed_at"], condition=~Q(comment=""), name="response_comment_retention_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.score} on {self.survey}"

    # The analysis as APIs show it: null (not "") until the comment has been read.
    @property
    def analysed_language(self) -> str | None:
        return self.language or None

    @property
    def analysed_sentiment(self) -> str | None:
        return self.sentiment or None


class ResponseNote(models.Model):
    """A note a person of the company wrote about a response (Delighted's response `notes`)."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField()
    user_email = models.EmailField(blank=True, help_text="Who wrote it, when known.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.text[:50]


class Question(models.Model):
    """An additional question asked after the score and its reason, to the scores in its range."""

    class Kind(models.TextChoices):
        FREE_TEXT = "free_text", _("Free text")
        SCALE = "scale", _("Scale (1 to scale_max)")
        SELECT_ONE = "select_one", _("Select one")
        SELECT_MANY = "select_many", _("Select many")
        YES_NO = "yes_no", _("Yes / no")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    text = models.JSONField(help_text='Per locale, e.g. {"en": "What could we do better?", "fr": "..."}.')
    choices = models.JSONField(
        default=list,
        blank=True,
        help_text='For select questions: [{"value": "price", "en": "Price", "fr": "Prix"}, ...].',
    )
    scale_max = models.PositiveSmallIntegerField(default=5, help_text="For scale questions: answers 1 to this.")
    show_if_score_min = models.SmallIntegerField(null=True, blank=True, help_text="Asked only from this score up.")
    show_if_score_max = models.SmallIntegerField(null=True, blank=True, help_text="Asked only up to this score.")
    # By place in the survey's ordered questions, not id: they are always written whole and in order
    # (`console.services`), so a new survey's conditions can name questions that have no id yet.
    show_if_answer = models.JSONField(
        null=True,
        blank=True,
        help_text="Asked only when an earlier question's answer is one of these, e.g. "
        '{"question": 0, "values": ["slow", "rude"]} (question: its place among the questions, from 0).',
    )

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text.get("en") or next(iter(self.text.values()), "")

    def applies_to(self, score: int) -> bool:
        low, high = self.show_if_score_min, self.show_if_score_max
        return (low is None or score >= low) and (high is None or score <= high)

    def follows(self, answers: dict[int, str | list[str]]) -> bool:
        """Whether its condition on an earlier answer holds, given the answers so far by the questions' places
        (from 0); a question left unanswered (skipped, or not asked) satisfies no condition."""
        if not self.show_if_answer:
            return True
        given = answers.get(self.show_if_answer["question"])
        chosen = given if isinstance(given, list) else [given] if given else []
        return any(value in self.show_if_answer["values"] for value in chosen)

    def text_in(self, locale: str) -> str:
        """The question in `locale`, else in its survey's default language, else in any it has."""
        locale = pick_locale(locale)
        return self.text.get(locale) or self.text.get(self.survey.default_locale) or next(iter(self.text.values()), "")

    def choice_labels(self, locale: str) -> list[tuple[str, str]]:
        locale = pick_locale(locale)
        if self.kind == self.Kind.YES_NO:
            return [("yes", WORDING[locale]["answer_yes"]), ("no", WORDING[locale]["answer_no"])]
        # The survey is read only for a label missing in `locale`: lists of answers label many.
        return [
            (
                str(choice["value"]),
                choice.get(locale)
                or choice.get(self.survey.default_locale)
                or choice.get("en")
                or str(choice["value"]),
            )
            for choice in self.choices
        ]

    def answer_values(self) -> list[str]:
        """The answers a condition may name: the options', yes and no, or the scale's numbers; free text none."""
        if self.kind == self.Kind.SCALE:
            return [str(n) for n in range(1, self.scale_max + 1)]
        if self.kind == self.Kind.YES_NO:
            return ["yes", "no"]
        return [str(choice["value"]) for choice in self.choices]

    def clean_value(self, value: str | list[str]) -> str | list[str]:
        """The answer as stored, or ValidationError naming what is wrong with it."""
        allowed = self.answer_values()
        if self.kind == self.Kind.SELECT_MANY:
            values = [value] if isinstance(value, str) else list(value)
            values = [item for item in values if item]
            if any(item not in allowed for item in values):
                raise ValidationError({"value": "Choose among the options shown."})
            return values
        value = ((value[-1] if value else "") if isinstance(value, list) else value).strip()
        if not value:
            return ""
        if self.kind == self.Kind.FREE_TEXT:
            return value[:5000]
        if self.kind in (self.Kind.SELECT_ONE, self.Kind.YES_NO) and value not in allowed:
            raise ValidationError({"value": "Choose one of the options shown."})
        if self.kind == self.Kind.SCALE and value not in [str(n) for n in range(1, self.scale_max + 1)]:
            raise ValidationError({"value": f"Choose a number from 1 to {self.scale_max}."})
        return value


class Answer(models.Model):
    """A response's answer to one additional question (text, a choice value, or a list of them)."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    value = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)
    # Free-text answers are read like comments (see Response).
    language = models.CharField(max_length=2, blank=True)
    sentiment = models.CharField(max_length=8, blank=True, choices=Sentiment.choices)
    sentiment_confidence = models.FloatField(null=True, blank=True)
    themes = models.JSONField(default=list, blank=True)
    analysis_pending = models.BooleanField(default=False)
    analysed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="answer_unique_per_question")]
        indexes = [
            models.Index(fields=["id"], condition=Q(analysis_pending=True), name="answer_analysis_pending"),
            # The retention purge walks the answers not yet blanked, oldest first.
            models.Index(fields=["updated_at"], condition=~Q(value=""), name="answer_text_retention_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.value}"

    @property
    def analysed_language(self) -> str | None:
        return self.language or None

    @property
    def analysed_sentiment(self) -> str | None:
        return self.sentiment or None


class Branding(models.Model):
    """Who messages come from and how they and the respondent page look: the workspace's (no survey), or one
    survey's, whose filled-in fields win over the workspace's (`surveys.branding.branding_for`)."""

    survey = models.OneToOneField(Survey, null=True, blank=True, on_delete=models.CASCADE, related_name="branding")
    sender_name = models.CharField(max_length=100, blank=True, help_text=_("The name emails come from."))
    sender_email = models.EmailField(
        blank=True, help_text=_("The address emails come from (a domain SendGrid may send for).")
    )
    reply_to = models.EmailField(blank=True)
    logo_url = models.URLField(blank=True, help_text=_("An image at a public https address, about 160 px wide."))
    brand_color = models.CharField(
        max_length=7, blank=True, help_text=_("#RRGGBB; buttons carry white text on it, so it must contrast 4.5:1.")
    )
    footer = models.TextField(blank=True, help_text=_("Under every email: your company and postal address."))
    sms_signature = models.CharField(max_length=30, blank=True, help_text=_('Starts each SMS, e.g. "Acme".'))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Branding of {self.survey or 'the workspace'}"


class ResponseAnnouncement(models.Model):
    """An answer created or changed that the apps above have not yet acted on: the outbox of `response_submitted`.

    Written in the transaction that records the answer and marked `announced_at` in the one that hands it to
    the apps above (`surveys.services.announcements`): its case, rollup count and webhook deliveries commit with
    the mark, and the changes those announce after commit (`follow_up_changed`) follow it. A row left unmarked
    (broker down at commit, a lost task, a receiver that failed) is announced again by the sweeper, so every
    committed answer is handed over exactly once.
    """

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="+")
    created = models.BooleanField(help_text="A new answer, rather than a change to one.")
    changed = models.JSONField(default=list, blank=True, help_text='What a change touched: "score", "comment".')
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Announcements that failed and were rolled back.")
    last_error = models.TextField(blank=True)
    announced_at = models.DateTimeField(null=True, blank=True, help_text="When its receivers' writes committed.")

    class Meta:
        indexes = [
            # The sweeper reads the unmarked ones only: the index stays as small as the backlog.
            models.Index(fields=["created_at"], condition=Q(announced_at__isnull=True), name="announcement_pending_idx")
        ]

    def __str__(self) -> str:
        return f"announcement of response {self.response_id}"


class PublishableKey(models.Model):
    """The key of the web widget (`<script src=".../web/snippet.js" data-key="...">`): public by design, it sits in
    the company's pages. It names one survey and the origins allowed to show it; it grants nothing else (no API
    access), so it is stored as is and shown again in the console."""

    name = models.CharField(max_length=100)
    key = models.CharField(max_length=40, unique=True, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="publishable_keys")
    allowed_origins = models.JSONField(
        default=list, help_text='The sites that may show the widget, e.g. ["https://app.example.com"].'
    )
    sample_factor = models.FloatField(
        default=1.0, help_text="Share of eligible visitors asked, from 0 to 1 (the snippet's sampleFactor wins)."
    )
    recurring_period_days = models.PositiveSmallIntegerField(
        default=90,
        help_text="Days before the same person is asked again by the widget (the snippet's recurringPeriod wins).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"
