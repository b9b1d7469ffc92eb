from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator

from feedback.models import FollowUp, Priority, RootCause, Team, User
from feedback.selectors import INBOX_FILTERS, INBOX_VIEW_LABELS
from surveys.models import AnswerChannel


class SignInForm(AuthenticationForm):
    """Django's sign-in form, with the email's length enforced on the server.

    AuthenticationForm sets the field's max_length after the field is built, so only the HTML attribute
    holds it: an over-long address reached authenticate(), and django-axes' record of the failure (255
    characters) answered 500 on PostgreSQL. Refused here, it is a field error and no sign-in attempt.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].validators.append(MaxLengthValidator(self.fields["username"].max_length))


class NoteForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Internal note", max_length=10000)


class ResolveForm(forms.Form):
    """Root cause and outcome are both required and neither has a default: a default outcome inflated recovery."""

    root_cause = forms.ModelChoiceField(
        queryset=RootCause.objects.filter(is_active=True).order_by("name"),
        label="Root cause",
        empty_label="Choose the root cause",
    )
    outcome = forms.ChoiceField(
        choices=[
            ("", "Choose the outcome"),
            (FollowUp.Outcome.RECOVERED, "Recovered"),
            (FollowUp.Outcome.NOT_RECOVERED, "Not recovered"),
            (FollowUp.Outcome.UNREACHABLE, "Unreachable"),
        ],
        label="Outcome",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Resolution note")


class ReplyForm(forms.Form):
    channel = forms.ChoiceField(
        choices=[("email", "Email"), ("sms", "SMS"), ("whatsapp", "WhatsApp")],
        required=False,
        label="Send by",
        widget=forms.RadioSelect,
    )
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Reply", max_length=1600)


# Statuses an agent may pick by hand; resolving has its own form (root cause and outcome).
STATUS_CHOICES = [
    (FollowUp.Status.NEW, "New"),
    (FollowUp.Status.IN_PROGRESS, "In progress"),
    (FollowUp.Status.WAITING, "Waiting on customer"),
]


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_CHOICES, label="Status")


class SnoozeForm(forms.Form):
    until = forms.DateField(label="Snooze until", widget=forms.DateInput(attrs={"type": "date"}))


class BulkForm(forms.Form):
    """Claim, assign or change the status of the cases ticked in the inbox (`ids`, at most a page of them)."""

    action = forms.ChoiceField(choices=[("claim", "Claim"), ("assign", "Assign"), ("status", "Set status")])
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Team queue (nobody)")
    status = forms.ChoiceField(choices=[("", "Choose a status"), *STATUS_CHOICES[1:]], required=False)

    def __init__(self, *args, agents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents
        self.fields["assignee"].label_from_instance = lambda user: user.get_full_name() or user.email

    def clean(self):
        data = super().clean()
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else self.data.get("ids", [])
        try:
            ids = sorted({int(value) for value in raw})
        except (TypeError, ValueError):
            raise forms.ValidationError("Tick the cases to change.") from None
        if not ids:
            raise forms.ValidationError("Tick the cases to change.")
        if len(ids) > 100:
            raise forms.ValidationError("Change at most 100 cases at once.")
        data["ids"] = ids
        if data.get("action") == "status" and not data.get("status"):
            self.add_error("status", "Choose the status to set.")
        return data


class ReassignForm(forms.Form):
    """Hand the case to an agent of its team, or put it back in the team queue (empty)."""

    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Team queue (nobody)", label="Assign to"
    )

    def __init__(self, *args, agents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents
        self.fields["assignee"].label_from_instance = lambda user: user.email


class MoveForm(forms.Form):
    """A manager moves the case to another team's queue."""

    team = forms.ModelChoiceField(queryset=Team.objects.none(), label="Move to team")

    def __init__(self, *args, follow_up: FollowUp, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.exclude(pk=follow_up.team_id).order_by("name")


class InboxForm(forms.Form):
    """The inbox's query string: every filter's default means "any"; a bad value is a field error, never a 500."""

    view = forms.ChoiceField(choices=[("", "Default"), *INBOX_VIEW_LABELS.items()], required=False)
    q = forms.CharField(required=False, max_length=200, label="Search", strip=True)
    status = forms.ChoiceField(choices=[("", "Any status"), *FollowUp.Status.choices], required=False)
    priority = forms.ChoiceField(choices=[("", "Any priority"), *Priority.choices], required=False)
    due = forms.ChoiceField(choices=[("", "Any time"), ("overdue", "Overdue"), ("today", "Due today")], required=False)
    channel = forms.ChoiceField(choices=[("", "Any channel"), *AnswerChannel.choices], required=False)
    # A 64-bit id at most: a longer number overflowed the database's integer (a 500).
    survey = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    score = forms.IntegerField(required=False, min_value=0, max_value=10)
    sort = forms.ChoiceField(
        choices=[
            ("due", "Due first"),
            ("-due", "Due last"),
            ("priority", "Priority"),
            ("-created", "Newest"),
            ("created", "Oldest"),
            ("score", "Lowest score"),
            ("-score", "Highest score"),
        ],
        required=False,
    )

    def clean_q(self) -> str:
        q = self.cleaned_data["q"]
        if "\x00" in q:
            raise forms.ValidationError("Remove the NUL character.")
        return q

    def filters(self) -> dict:
        return {key: self.cleaned_data.get(key) for key in INBOX_FILTERS}
