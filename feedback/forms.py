from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

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


class AccountForm(forms.Form):
    language = forms.ChoiceField(
        # Each language named in itself, so that someone lost in the wrong one still finds theirs.
        choices=[("", _("My browser's language")), *settings.LANGUAGES],
        required=False,
        label=_("Language"),
        help_text=_("Of your pages and of the emails Closeloop sends you."),
        widget=forms.Select(attrs={"aria-describedby": "language-help"}),
    )


class NoteForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label=_("Internal note"), max_length=10000)


class ResolveForm(forms.Form):
    """Root cause and outcome are both required and neither has a default: a default outcome inflated recovery."""

    root_cause = forms.ModelChoiceField(
        queryset=RootCause.objects.filter(is_active=True).order_by("name"),
        label=_("Root cause"),
        empty_label=_("Choose the root cause"),
    )
    outcome = forms.ChoiceField(
        choices=[
            ("", _("Choose the outcome")),
            (FollowUp.Outcome.RECOVERED, _("Recovered")),
            (FollowUp.Outcome.NOT_RECOVERED, _("Not recovered")),
            (FollowUp.Outcome.UNREACHABLE, _("Unreachable")),
        ],
        label=_("Outcome"),
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Resolution note"))


class ReplyForm(forms.Form):
    channel = forms.ChoiceField(
        choices=[("email", _("Email")), ("sms", _("SMS")), ("whatsapp", _("WhatsApp"))],
        required=False,
        label=_("Send by"),
        widget=forms.RadioSelect,
    )
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label=_("Reply"), max_length=1600)


# Statuses an agent may pick by hand; resolving has its own form (root cause and outcome).
STATUS_CHOICES = [
    (FollowUp.Status.NEW, _("New")),
    (FollowUp.Status.IN_PROGRESS, _("In progress")),
    (FollowUp.Status.WAITING, _("Waiting on customer")),
]


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_CHOICES, label=_("Status"))


class SnoozeForm(forms.Form):
    until = forms.DateField(label=_("Snooze until"), widget=forms.DateInput(attrs={"type": "date"}))


class BulkForm(forms.Form):
    """Claim, assign or change the status of the cases ticked in the inbox (`ids`, at most a page of them)."""

    action = forms.ChoiceField(choices=[("claim", _("Claim")), ("assign", _("Assign")), ("status", _("Set status"))])
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label=_("Team queue (nobody)")
    )
    status = forms.ChoiceField(choices=[("", _("Choose a status")), *STATUS_CHOICES[1:]], required=False)

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
            raise forms.ValidationError(_("Tick the cases to change.")) from None
        if not ids:
            raise forms.ValidationError(_("Tick the cases to change."))
        if len(ids) > 100:
            raise forms.ValidationError(_("Change at most 100 cases at once."))
        data["ids"] = ids
        if data.get("action") == "status" and not data.get("status"):
            self.add_error("status", _("Choose the status to set."))
        return data


class ReassignForm(forms.Form):
    """Hand the case to an agent of its team, or put it back in the team queue (empty)."""

    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label=_("Team queue (nobody)"), label=_("Assign to")
    )

    def __init__(self, *args, agents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents
        self.fields["assignee"].label_from_instance = lambda user: user.email


class MoveForm(forms.Form):
    """A manager moves the case to another team's queue."""

    team = forms.ModelChoiceField(queryset=Team.objects.none(), label=_("Move to team"))

    def __init__(self, *args, follow_up: FollowUp, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.exclude(pk=follow_up.team_id).order_by("name")


class InboxForm(forms.Form):
    """The inbox's query string: every filter's default means "any"; a bad value is a field error, never a 500."""

    view = forms.ChoiceField(choices=[("", _("Default")), *INBOX_VIEW_LABELS.items()], required=False)
    q = forms.CharField(required=False, max_length=200, label=_("Search"), strip=True)
    status = forms.ChoiceField(choices=[("", _("Any status")), *FollowUp.Status.choices], required=False)
    priority = forms.ChoiceField(choices=[("", _("Any priority")), *Priority.choices], required=False)
    due = forms.ChoiceField(
        choices=[("", _("Any time")), ("overdue", _("Overdue")), ("today", _("Due today"))], required=False
    )
    channel = forms.ChoiceField(choices=[("", _("Any channel")), *AnswerChannel.choices], required=False)
    # A 64-bit id at most: a longer number overflowed the database's integer (a 500).
    survey = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    score = forms.IntegerField(required=False, min_value=0, max_value=10)
    sort = forms.ChoiceField(
        choices=[
            ("due", _("Due first")),
            ("-due", _("Due last")),
            ("priority", _("Priority")),
            ("-created", _("Newest")),
            ("created", _("Oldest")),
            ("score", _("Lowest score")),
            ("-score", _("Highest score")),
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
