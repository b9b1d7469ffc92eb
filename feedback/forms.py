from django import forms

from feedback.models import FollowUp, Priority, RootCause, Team, User


class NoteForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Internal note", max_length=10000)


class ResolveForm(forms.Form):
    root_cause = forms.ModelChoiceField(queryset=RootCause.objects.filter(is_active=True), label="Root cause")
    outcome = forms.ChoiceField(
        choices=[
            (FollowUp.Outcome.RECOVERED, "Recovered"),
            (FollowUp.Outcome.NOT_RECOVERED, "Not recovered"),
            (FollowUp.Outcome.UNREACHABLE, "Unreachable"),
        ],
        label="Outcome",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Resolution note")


class ReplyForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Reply to the customer", max_length=1600)


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(FollowUp.Status.IN_PROGRESS, "In progress"), (FollowUp.Status.WAITING, "Waiting on customer")]
    )


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
    """The inbox's query string; a bad value is a field error, never a 500."""

    view = forms.ChoiceField(choices=[(v, v) for v in ("mine", "team", "unassigned", "overdue", "all")], required=False)
    status = forms.ChoiceField(choices=FollowUp.Status.choices, required=False)
    survey = forms.IntegerField(required=False, min_value=1)
    score = forms.IntegerField(required=False, min_value=0, max_value=10)
    priority = forms.ChoiceField(choices=Priority.choices, required=False)
    due = forms.ChoiceField(choices=[("overdue", "Overdue"), ("today", "Due today")], required=False)
    sort = forms.ChoiceField(
        choices=[(v, v) for v in ("due", "-due", "created", "-created", "score", "-score", "priority")], required=False
    )
