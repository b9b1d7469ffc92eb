from django import forms

from feedback.models import FollowUp, Priority, RootCause


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
