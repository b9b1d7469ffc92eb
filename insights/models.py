"""Rollups: what the dashboard counts, kept up to date as answers and cases change, so no page scans raw rows.

The tables keep the names they had in `feedback` (state-only move, no data copied).
"""

from django.db import models

from feedback.models import FollowUp, Team
from surveys.models import Response, Survey


class ScoreRollup(models.Model):
    """How many answers gave `score`, per day × survey × channel × event type, kept up to date as answers arrive.

    Rows with an empty `dimension` are the totals; each property of DASHBOARD_BREAKDOWN_PROPERTIES
    ("event:store", "contact:plan") has its own rows, one per value, so a breakdown never scans responses.
    """

    day = models.DateField()
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10)
    channel = models.CharField(max_length=10)
    event_type = models.CharField(max_length=100, blank=True)
    dimension = models.CharField(max_length=100, blank=True)
    value = models.CharField(max_length=200, blank=True)
    score = models.SmallIntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        db_table = "feedback_scorerollup"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "survey", "channel", "event_type", "dimension", "value", "score"],
                name="score_rollup_unique_bucket",
            )
        ]
        indexes = [models.Index(fields=["dimension", "day"])]

    def __str__(self) -> str:
        return f"{self.day} survey {self.survey_id} {self.dimension}={self.value} score {self.score}: {self.count}"


class ResponseTally(models.Model):
    """What a response is counted as in ScoreRollup, so a changed score moves from its old bucket to the new one."""

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="+")
    score = models.SmallIntegerField()
    day = models.DateField()
    channel = models.CharField(max_length=10)
    event_type = models.CharField(max_length=100, blank=True)
    segments = models.JSONField(default=dict, help_text="Breakdown property values when first counted.")

    class Meta:
        db_table = "feedback_responsetally"

    def __str__(self) -> str:
        return f"response {self.response_id} counted as {self.score}"


class FunnelRollup(models.Model):
    """Invitations per day (of creation) × survey × channel × event type, by how far they got."""

    day = models.DateField()
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10)
    event_type = models.CharField(max_length=100, blank=True)
    scheduled = models.IntegerField(default=0)
    sent = models.IntegerField(default=0)
    delivered = models.IntegerField(default=0)
    opened = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    bounced = models.IntegerField(default=0)
    opted_out = models.IntegerField(default=0)
    throttled = models.IntegerField(default=0)

    class Meta:
        db_table = "feedback_funnelrollup"
        constraints = [
            models.UniqueConstraint(fields=["day", "survey", "channel", "event_type"], name="funnel_rollup_unique_row")
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.survey_id} {self.channel}: {self.scheduled} scheduled"


class FollowUpTally(models.Model):
    """What a case is counted as in LoopRollup, so a change moves it from its old bucket to its new one.

    Also keeps the case's business hours to first contact and to resolution, measured on its team's
    calendar when they happened, so the dashboard's medians read a bounded sample of numbers.
    """

    follow_up = models.OneToOneField(FollowUp, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text="When the case was opened.")
    answered_on = models.DateField(help_text="When its answer was given.")
    opened_at = models.DateTimeField()
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10)
    event_type = models.CharField(max_length=100, blank=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    assignee_id = models.BigIntegerField(default=0, help_text="0: in the team queue.")
    root_cause_id = models.BigIntegerField(default=0, help_text="0: none yet.")
    contacted = models.BooleanField(default=False)
    resolved = models.BooleanField(default=False)
    within_sla = models.BooleanField(default=False)
    recovered = models.BooleanField(default=False)
    unhappy = models.BooleanField(default=False, help_text="Its answer is still a detractor's.")
    hours_to_first_contact = models.FloatField(null=True, blank=True)
    hours_to_resolve = models.FloatField(null=True, blank=True)

    class Meta:
        db_table = "feedback_followuptally"
        indexes = [models.Index(fields=["opened_at"])]

    def __str__(self) -> str:
        return f"case {self.follow_up_id} counted on {self.day}"


class LoopRollup(models.Model):
    """Cases per day opened × day answered × survey × channel × event type × team × assignee × root cause,
    by how far the loop got; kept up to date as cases change, so the loop section never scans cases.

    `assignee_id` and `root_cause_id` are plain ids (0 = none) so that "none" is one bucket, not many NULLs.
    """

    day = models.DateField()
    answered_on = models.DateField()
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10)
    event_type = models.CharField(max_length=100, blank=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    assignee_id = models.BigIntegerField(default=0)
    root_cause_id = models.BigIntegerField(default=0)
    follow_ups = models.IntegerField(default=0)
    contacted = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    within_sla = models.IntegerField(default=0)
    recovered = models.IntegerField(default=0)
    unhappy = models.IntegerField(default=0)

    class Meta:
        db_table = "feedback_looprollup"
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "day", "answered_on", "survey", "channel", "event_type", "team", "assignee_id", "root_cause_id"
                ],
                name="loop_rollup_unique_bucket",
            )
        ]  # fmt: skip
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.day} survey {self.survey_id} team {self.team_id}: {self.follow_ups} cases"


# --- Themes of comments (insights/taxonomy.py, insights/analysis.py, insights/theme_rollups.py) ---------------


class Theme(models.Model):
    """A theme of the taxonomy comments are read against; its seeds are phrases in any language.

    `slug` is what responses, rollups, routing rules and the API carry; it never changes once created
    (a rename changes the name). A merged theme is deleted and its comments carry the theme it was merged into.
    """

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    seeds = models.JSONField(
        default=list, blank=True, help_text='Phrases that name the theme, e.g. ["late delivery", "livr*"].'
    )
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class ThemeCandidate(models.Model):
    """A group of `other` comments found by the nightly discovery, described in the comments' own words."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PROMOTED = "promoted", "Promoted"
        DISMISSED = "dismissed", "Dismissed"

    key_phrases = models.JSONField(default=list)
    size = models.PositiveIntegerField(help_text="Comments in the group.")
    typical_response_ids = models.JSONField(default=list, help_text="Its three most typical comments' responses.")
    typical_comments = models.JSONField(default=list, help_text="Those comments as they read when discovered.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    theme = models.ForeignKey(Theme, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    discovered_at = models.DateTimeField()

    class Meta:
        ordering = ["-discovered_at", "-size", "pk"]

    def __str__(self) -> str:
        return ", ".join(self.key_phrases[:3]) or f"candidate {self.pk}"


class ThemeTally(models.Model):
    """What the theme rollups counted for one analysed response, so a change moves exactly that."""

    response = models.OneToOneField(Response, on_delete=models.CASCADE, primary_key=True, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10)
    day = models.DateField()
    channel = models.CharField(max_length=10)
    event_type = models.CharField(max_length=100, blank=True)
    score = models.SmallIntegerField()
    themes = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"response {self.response_id}: {', '.join(self.themes) or 'other'}"


class ThemeRollup(models.Model):
    """How many analysed comments gave `score` and mention `theme`, per day × survey × channel × event type.

    Rows with an empty `theme` count every analysed comment: "those who do not mention a theme" is that
    minus the theme's own rows, so the Why section never scans responses.
    """

    day = models.DateField()
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10)
    channel = models.CharField(max_length=10)
    event_type = models.CharField(max_length=100, blank=True)
    theme = models.CharField(max_length=50, blank=True)
    score = models.SmallIntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "survey", "channel", "event_type", "theme", "score"], name="theme_rollup_bucket"
            )
        ]
        indexes = [models.Index(fields=["day", "theme"], name="theme_rollup_day_theme")]

    def __str__(self) -> str:
        return f"{self.day} {self.theme or 'all'} score {self.score}: {self.count}"
