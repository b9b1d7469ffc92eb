from datetime import time

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from surveys.models import Response, Survey
from surveys.scoring import NO_LONGER_UNHAPPY


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True, role=User.Role.MANAGER)
        return self.create_user(email, password, **fields)


class Team(models.Model):
    class Assignment(models.TextChoices):
        LEAST_OPEN = "least_open", _("Least open cases (ties: longest since their last case)")
        ROUND_ROBIN = "round_robin", _("Round robin (each agent in turn)")
        QUEUE = "queue", _("Unassigned (agents pick from the team queue)")

    name = models.CharField(max_length=100, unique=True)
    sla_hours = models.PositiveIntegerField(default=24, help_text=_("Business hours to resolve a follow-up."))
    time_zone = models.CharField(max_length=64, default="UTC", help_text=_("IANA zone of the team's business hours."))
    working_days = models.CharField(
        max_length=20, default="0,1,2,3,4", help_text=_("Working weekdays, 0 = Monday, comma separated.")
    )
    opens_at = models.TimeField(default=time(9, 0))
    closes_at = models.TimeField(default=time(17, 0))
    holidays = models.JSONField(default=list, blank=True, help_text='Days off, e.g. ["2026-12-25"].')
    lead = models.ForeignKey(
        "feedback.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams"
    )
    slack_webhook_url = models.URLField(blank=True, help_text="Slack incoming webhook for new and escalated cases.")
    slack_channel_id = models.CharField(
        _("Slack channel"),
        max_length=30,
        blank=True,
        help_text=_("With a Slack bot token: the channel picked from Slack's list; its notices go there."),
    )
    slack_channel_name = models.CharField(max_length=80, blank=True, editable=False, help_text="As Slack listed it.")
    reply_from_email = models.EmailField(
        blank=True, help_text="Agents' replies to customers go out from this address; empty: DEFAULT_FROM_EMAIL's."
    )
    assignment = models.CharField(
        max_length=12,
        choices=Assignment.choices,
        default=Assignment.LEAST_OPEN,
        verbose_name=_("assignment strategy"),
        help_text=_("Who gets a new case: only the team's active agents who are not away take part."),
    )
    round_robin_cursor = models.PositiveIntegerField(default=0, editable=False)

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who logs in with their email: an agent of one team, or a manager."""

    class Role(models.TextChoices):
        AGENT = "agent", _("Agent")
        MANAGER = "manager", _("Manager")

    username = None
    email = models.EmailField(unique=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.AGENT)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    time_zone = models.CharField(
        max_length=64, blank=True, help_text="IANA zone due times are shown in; empty: the team's, else TIME_ZONE."
    )
    is_away = models.BooleanField(
        _("away"), default=False, help_text=_("Away: no new case is assigned to them by a strategy.")
    )
    last_assigned_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When an assignment strategy last gave them a case (least open's tie-break).",
    )
    wants_weekly_digest = models.BooleanField(default=False, help_text="Email me the dashboard's headlines on Mondays.")
    digest_sent_for = models.DateField(null=True, blank=True, help_text="Monday of the last week digested.")
    language = models.CharField(
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text="Language of my pages and emails; empty: my browser's (emails: LANGUAGE_CODE's).",
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER

    @property
    def email_language(self) -> str:
        """An email has no browser to ask: the person's chosen language, else the site's."""
        return self.language or settings.LANGUAGE_CODE


class RootCause(models.Model):
    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True)
    outside_agent_control = models.BooleanField(
        default=False, help_text=_("Cases with this cause can be left out of agents' scores.")
    )

    def __str__(self) -> str:
        return self.name


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class RoutingRule(models.Model):
    """Ordered conditions on a confirmed response and what to do when they match; the lowest position wins.

    Empty conditions match everything; with no score range only detractors match (`surveys.scoring`).
    """

    class Assignment(models.TextChoices):
        TEAM = "team", _("The team's strategy")
        LEAST_OPEN = "least_open", _("Agent with fewest open follow-ups")
        ROUND_ROBIN = "round_robin", _("Round-robin among the team's agents")
        PROPERTY = "property", _("Agent named by a contact or event property")
        QUEUE = "queue", _("Team queue (unassigned)")

    position = models.PositiveIntegerField(default=0)
    survey = models.ForeignKey(Survey, null=True, blank=True, on_delete=models.CASCADE)
    kind = models.CharField(max_length=10, blank=True, help_text=_("Survey kind, e.g. nps; empty for any."))
    score_min = models.SmallIntegerField(null=True, blank=True)
    score_max = models.SmallIntegerField(null=True, blank=True)
    comment_contains = models.CharField(max_length=200, blank=True, help_text=_("Case-insensitive."))
    comment_is_empty = models.BooleanField(null=True, blank=True, help_text=_("Yes / no / either."))
    contact_properties = models.JSONField(default=dict, blank=True, help_text='Equal values, e.g. {"plan": "pro"}.')
    event_properties = models.JSONField(default=dict, blank=True, help_text='Equal values, e.g. {"store": "Lyon"}.')
    theme = models.CharField(
        max_length=50,
        blank=True,
        help_text=_("A theme slug the comment must carry, e.g. billing_refund; empty for any."),
    )
    sentiment = models.CharField(
        max_length=8,
        blank=True,
        choices=[("positive", _("Positive")), ("neutral", _("Neutral")), ("negative", _("Negative"))],
        help_text=_("The comment's sentiment must be this; empty for any."),
    )
    opens_follow_up = models.BooleanField(default=True, help_text=_("Off: matching responses open nothing."))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE)
    priority = models.CharField(max_length=6, choices=Priority.choices, default=Priority.NORMAL)
    sla_hours = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty: the team's SLA."))
    assignment = models.CharField(max_length=12, choices=Assignment.choices, default=Assignment.TEAM)
    assignee_property = models.CharField(
        max_length=100, blank=True, help_text=_("Contact or event property holding the agent's email.")
    )
    fix_check_survey = models.ForeignKey(
        Survey,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_(
            '"Did we fix it?": this survey goes to the customer on the channel they answered by when an agent '
            'resolves the case (recovered or not recovered); a thumbs survey asking "Did we fix it?" fits. Empty: none.'
        ),
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"#{self.position} {self.survey or 'any survey'} → {self.team or 'no follow-up'}"


class FollowUp(models.Model):
    """A case: one unhappy response that a person works until the loop is closed."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING = "waiting", _("Waiting on customer")
        RESOLVED = "resolved", _("Resolved")

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="follow_up")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="follow_ups")
    assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_follow_ups"
    )

    class Outcome(models.TextChoices):
        RECOVERED = "recovered", _("Recovered")
        NOT_RECOVERED = "not_recovered", _("Not recovered")
        UNREACHABLE = "unreachable", _("Unreachable")
        NO_LONGER_DETRACTOR = "no_longer_detractor", _("No longer a detractor")

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=6, choices=Priority.choices, default=Priority.NORMAL)
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    due_at = models.DateTimeField()
    remind_at = models.DateTimeField(null=True, blank=True, help_text="75% of the SLA.")
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    root_cause = models.ForeignKey(RootCause, null=True, blank=True, on_delete=models.PROTECT)
    resolution_note = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(
        null=True, blank=True, help_text="Out of the agent's work view until then; the customer writing ends it."
    )
    fix_confirmed = models.BooleanField(
        null=True,
        blank=True,
        help_text='The customer\'s answer to the "did we fix it?" survey of the current resolution; empty until then.',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["team", "status", "due_at"]),
            # The retention purge walks resolved cases by when they were resolved.
            models.Index(fields=["resolved_at"], condition=models.Q(status="resolved"), name="follow_up_resolved_idx"),
            # The SLA scan (`escalate-follow-ups`, every 5 minutes) reads only the open cases whose reminder or
            # escalation has not fired yet: its cost follows what is pending, not every case ever opened. The
            # statuses are OPEN_STATUSES (below the class), in its order: the scan's `status IN (...)` must
            # match them for PostgreSQL to use these indexes.
            models.Index(
                fields=["remind_at"],
                condition=models.Q(status__in=["new", "in_progress", "waiting"], reminded_at__isnull=True),
                name="follow_up_remind_due_idx",
            ),
            models.Index(
                fields=["due_at"],
                condition=models.Q(status__in=["new", "in_progress", "waiting"], escalated_at__isnull=True),
                name="follow_up_escalate_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk}"

    @property
    def outcome_label(self) -> str:
        """The outcome in words of the answer's kind ("No longer dissatisfied" for CSAT, not "…a detractor")."""
        if self.outcome == self.Outcome.NO_LONGER_DETRACTOR:
            return NO_LONGER_UNHAPPY[self.response.survey.kind]
        return self.get_outcome_display()


# A case still to be worked: neither resolved nor closed.
OPEN_STATUSES = [FollowUp.Status.NEW, FollowUp.Status.IN_PROGRESS, FollowUp.Status.WAITING]


class FollowUpEntry(models.Model):
    """The case's timeline and audit trail: who did what, when."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        NOTE = "note", _("Note")
        ASSIGNED = "assigned", _("Assigned")
        STATUS = "status", _("Status changed")
        UPDATED = "updated", _("Updated")
        REPLY = "reply", _("Reply sent")
        CUSTOMER_REPLY = "customer", _("Customer replied")
        REMINDER = "reminder", _("SLA reminder")
        ESCALATED = "escalated", _("Escalated")
        RESOLVED = "resolved", _("Resolved")
        REOPENED = "reopened", _("Reopened")
        FIX_CHECK_SENT = "fix_sent", _('"Did we fix it?" survey sent')
        FIX_CHECK_ANSWERED = "fix_answer", _('"Did we fix it?" answered')
        SNOOZED = "snoozed", _("Snoozed")

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    message = models.ForeignKey(
        "notifications.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    body = models.TextField(blank=True)
    channel = models.CharField(max_length=10, blank=True, help_text="email or sms, for replies either way.")
    wording = models.CharField(
        max_length=40,
        blank=True,
        help_text="Which line Closeloop wrote (feedback/history_lines.py), drawn in the reader's language; "
        "empty for what people wrote and for lines written before.",
    )
    wording_values = models.JSONField(default=dict, blank=True, help_text="The line's values, by placeholder.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on case #{self.follow_up_id}"


class CannedReply(models.Model):
    """A team's ready-made reply in one language; `{first_name}`, `{order_id}` or any event property fill in."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="canned_replies")
    locale = models.CharField(max_length=5, choices=[("en", _("English")), ("fr", _("French"))], default="en")
    title = models.CharField(max_length=100)
    body = models.TextField(max_length=1600)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "pk"]
        verbose_name_plural = "canned replies"
        constraints = [models.UniqueConstraint(fields=["team", "locale", "title"], name="canned_reply_unique_title")]

    def __str__(self) -> str:
        return f"{self.title} ({self.locale}, {self.team})"


class FixCheck(models.Model):
    """The "did we fix it?" survey sent for one resolution of a case; its invitation's answer comes back here."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="fix_checks")
    invitation = models.OneToOneField("surveys.Invitation", on_delete=models.CASCADE, related_name="fix_check")
    resolved_at = models.DateTimeField(help_text="The resolution it asks about.")
    fixed = models.BooleanField(null=True, blank=True, help_text="The customer's answer; empty until they give it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # One check per resolution, whatever retries or double submissions do.
            models.UniqueConstraint(fields=["follow_up", "resolved_at"], name="fix_check_one_per_resolution")
        ]

    def __str__(self) -> str:
        return f"Fix check of case #{self.follow_up_id} ({self.resolved_at:%Y-%m-%d})"


class ApiKeyTeam(models.Model):
    """Binds an API key to one team: the key then sees and works that team's follow-ups only."""

    api_key = models.OneToOneField("surveys.ApiKey", on_delete=models.CASCADE, related_name="follow_up_team")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_keys")

    class Meta:
        verbose_name = "API key team"

    def __str__(self) -> str:
        return f"{self.api_key} acts for {self.team}"
