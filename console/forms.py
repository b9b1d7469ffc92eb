"""The console's forms: they turn fields a person fills in (one box per language, a score range picked from
the scale, conditions as rows) into what `console.services` takes, and nothing more."""

import json
from datetime import timedelta

from django import forms
from django.conf import settings
from django.db import models
from django.forms import formset_factory
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from feedback.models import CannedReply, RootCause, RoutingRule, Team, User
from integrations.models import Connector, WebhookSubscription
from surveys.models import END_LABEL_MAX_LENGTH, THANK_YOU_MAX_LENGTH, ApiKey, Branding, Question, Survey, TriggerRule
from surveys.scales import SCALES, SUPPORTED_LOCALES
from surveys.services.trigger_rules import trigger_rule_channel_problem

LANGUAGE_NAMES = {"en": _("English"), "fr": _("French")}


def _locale_label(what: str, locale: str) -> str:
    return format_lazy("{what} ({language})", what=what, language=LANGUAGE_NAMES.get(locale, locale))


# The survey's per-locale texts besides its question: (form field prefix, label, longest).
SURVEY_LOCALE_TEXTS = (
    ("low_label", _("Label of the lowest score"), END_LABEL_MAX_LENGTH),
    ("high_label", _("Label of the highest score"), END_LABEL_MAX_LENGTH),
    ("thank_you", _("Thank-you message"), THANK_YOU_MAX_LENGTH),
)
# Each prefix's Survey field.
SURVEY_TEXT_FIELDS = {"low_label": "low_label", "high_label": "high_label", "thank_you": "thank_you_text"}


class SurveyForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    kind = forms.ChoiceField(choices=Survey.Kind.choices, label=_("Kind"))
    product_name = forms.CharField(
        max_length=200,
        required=False,
        label=_("Product name"),
        help_text=_("Fills {product} in the question, e.g. Acme support."),
    )
    default_locale = forms.ChoiceField(
        choices=[(locale, LANGUAGE_NAMES.get(locale, locale)) for locale in SUPPORTED_LOCALES],
        label=_("Default language"),
        help_text=_("A text left empty in another language shows this language's."),
    )
    thank_you_link_url = forms.URLField(required=False, assume_scheme="https", label=_("Thank-you link"))
    reminder_after_days = forms.IntegerField(
        min_value=1, max_value=60, required=False, label=_("Remind after (days)"), help_text=_("Empty: no reminder.")
    )
    link_expiry_days = forms.IntegerField(
        min_value=1,
        max_value=365,
        required=False,
        label=_("Links expire after (days)"),
        help_text=_("Empty: the workspace's %(days)s days. A trigger rule's own expiry comes first."),
    )
    fatigue_survey_days = forms.IntegerField(
        min_value=0,
        max_value=365,
        required=False,
        label=_("Don't ask a person this survey again within (days)"),
        help_text=_("0: no limit. Empty: the workspace's %(days)s days."),
    )
    fatigue_global_days = forms.IntegerField(
        min_value=0,
        max_value=365,
        required=False,
        label=_("Nor within (days) of any survey they were asked"),
        help_text=_("0: no limit. Empty: the workspace's %(days)s days."),
    )
    is_active = forms.BooleanField(required=False, initial=True, label=_("Active (unticked: paused)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The help names the default in effect, read from the settings when the page is drawn.
        for name, default in (
            ("link_expiry_days", settings.INVITATION_EXPIRY_DAYS),
            ("fatigue_survey_days", settings.FATIGUE_SURVEY_DAYS),
            ("fatigue_global_days", settings.FATIGUE_GLOBAL_DAYS),
        ):
            self.fields[name].help_text = self.fields[name].help_text % {"days": default}
        for locale in SUPPORTED_LOCALES:
            self.fields[f"question_{locale}"] = forms.CharField(
                max_length=1000,
                required=False,
                label=_locale_label(_("Question"), locale),
                help_text=_("Empty: the kind's usual question.") if locale == "en" else "",
            )
        # The customer-facing texts, one box per language, each language's together.
        for locale in SUPPORTED_LOCALES:
            for prefix, what, longest in SURVEY_LOCALE_TEXTS:
                self.fields[f"{prefix}_{locale}"] = forms.CharField(
                    max_length=longest, required=False, label=_locale_label(what, locale)
                )
        self.order_fields(
            ["name", "kind", "product_name", "default_locale"]
            + [f"question_{locale}" for locale in SUPPORTED_LOCALES]
            + [f"{prefix}_{locale}" for locale in SUPPORTED_LOCALES for prefix, _what, _n in SURVEY_LOCALE_TEXTS]
        )

    @classmethod
    def initial_for(cls, survey: Survey) -> dict:
        initial = {name: getattr(survey, name) for name in ("name", "kind", "product_name", "default_locale")}
        initial.update(
            thank_you_link_url=survey.thank_you_link_url,
            reminder_after_days=survey.reminder_after_days,
            link_expiry_days=survey.link_expiry_days,
            fatigue_survey_days=survey.fatigue_survey_days,
            fatigue_global_days=survey.fatigue_global_days,
            is_active=survey.is_active,
        )
        for locale in SUPPORTED_LOCALES:
            initial[f"question_{locale}"] = survey.question_text.get(locale, "")
            for prefix, field in SURVEY_TEXT_FIELDS.items():
                initial[f"{prefix}_{locale}"] = getattr(survey, field).get(locale, "")
        return initial

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        for prefix, field in {"question": "question_text", **SURVEY_TEXT_FIELDS}.items():
            data[field] = {
                locale: text for locale in SUPPORTED_LOCALES if (text := data.pop(f"{prefix}_{locale}").strip())
            }
        return data


SCORE_CHOICES = [("", _("any"))] + [(str(n), str(n)) for n in range(0, 11)]


class QuestionForm(forms.Form):
    """One additional question; "ask only when the score is from … to …" is its condition."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(choices=Question.Kind.choices, label=_("Answer"))
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Options"),
        help_text=_("One per line: value | English | French, e.g. slow | Too slow | Trop lent."),
    )
    show_if_score_min = forms.TypedChoiceField(
        choices=SCORE_CHOICES, coerce=int, empty_value=None, required=False, label=_("Ask when the score is from")
    )
    show_if_score_max = forms.TypedChoiceField(
        choices=SCORE_CHOICES, coerce=int, empty_value=None, required=False, label=_("to")
    )

    def __init__(self, *args, index: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        for locale in SUPPORTED_LOCALES:
            self.fields[f"text_{locale}"] = forms.CharField(
                max_length=1000, required=False, label=_locale_label(_("Question"), locale)
            )
        if index:  # The first question has no earlier answer to depend on.
            self.fields["show_if_question"] = forms.TypedChoiceField(
                choices=[("", _("any answer (always asked)"))]
                + [(str(n), _("question %(n)s") % {"n": n + 1}) for n in range(index)],
                coerce=int,
                empty_value=None,
                required=False,
                label=_("Ask only when the answer to"),
            )
            self.fields["show_if_values"] = forms.CharField(
                max_length=500,
                required=False,
                label=_("is one of"),
                help_text=_("Comma separated: option values (e.g. slow, rude), yes or no, or scale numbers."),
            )

    @staticmethod
    def initial_for(question: Question) -> dict:
        # A survey's questions are shown in order, so question n's form is number n: positions read as forms.
        condition = question.show_if_answer or {}
        initial = {
            "show_if_question": condition.get("question"),
            "show_if_values": ", ".join(condition.get("values", [])),
            "id": question.pk,
            "kind": question.kind,
            "show_if_score_min": question.show_if_score_min,
            "show_if_score_max": question.show_if_score_max,
            "choices": "\n".join(
                " | ".join([str(choice.get("value", "")), *[choice.get(loc, "") for loc in SUPPORTED_LOCALES]])
                for choice in question.choices
            ),
        }
        for locale in SUPPORTED_LOCALES:
            initial[f"text_{locale}"] = question.text.get(locale, "")
        return initial

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("id") and not any(data.get(f"text_{locale}") for locale in SUPPORTED_LOCALES)

    def service_fields(self, positions: dict[int, int]) -> dict:
        """The question as `console.services` takes it; `positions` gives each filled form's number (from 0) its
        question's position, blank forms being left out."""
        data = self.cleaned_data
        choices = []
        for line in (data.get("choices") or "").splitlines():
            parts = [part.strip() for part in line.split("|")]
            if parts and parts[0]:
                labels = dict(zip(SUPPORTED_LOCALES, parts[1:], strict=False))
                choices.append({"value": parts[0], **{loc: text for loc, text in labels.items() if text}})
        question = {
            "kind": data["kind"],
            "text": {loc: data[f"text_{loc}"].strip() for loc in SUPPORTED_LOCALES if data[f"text_{loc}"].strip()},
            "choices": choices,
            "show_if_score_min": data["show_if_score_min"],
            "show_if_score_max": data["show_if_score_max"],
            "show_if_answer": None,
        }
        values = [value.strip() for value in (data.get("show_if_values") or "").split(",") if value.strip()]
        if data.get("show_if_question") is not None or values:
            # A blank form named as the question is none: the service says to pick an earlier question.
            question["show_if_answer"] = {"question": positions.get(data.get("show_if_question")), "values": values}
        if data.get("id"):
            question["id"] = data["id"]
        return question


class BaseQuestionFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        # Each question's condition may name only the questions above it.
        return {**super().get_form_kwargs(index), "index": index or 0}


# Two blank questions: a question and the follow-up that depends on its answer can be written in one go.
QuestionFormSet = formset_factory(QuestionForm, formset=BaseQuestionFormSet, extra=2)


class ConditionForm(forms.Form):
    """One row of a condition builder: property, operator, value."""

    property = forms.CharField(
        max_length=100, required=False, label=_("Property"), help_text=_("e.g. amount or customer.plan")
    )
    op = forms.ChoiceField(
        choices=[
            ("equals", _("is")),
            ("in", _("is one of (comma separated)")),
            ("exists", _("is present")),
            ("gt", ">"),
            ("gte", "≥"),
            ("lt", "<"),
            ("lte", "≤"),
        ],
        required=False,
        label=_("Operator"),
    )
    value = forms.CharField(max_length=200, required=False, label=_("Value"))

    def condition(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("property"):
            return None
        condition = {"property": data["property"].strip(), "op": data["op"] or "equals"}
        if condition["op"] == "in":
            condition["value"] = [item.strip() for item in data["value"].split(",") if item.strip()]
        elif condition["op"] in ("gt", "gte", "lt", "lte"):
            try:
                condition["value"] = float(data["value"])
            except ValueError:
                condition["value"] = data["value"]
        elif condition["op"] == "equals":
            condition["value"] = data["value"]
        return condition


ConditionFormSet = formset_factory(ConditionForm, extra=2)


class TriggerRuleForm(forms.Form):
    event_type = forms.RegexField(
        r"^[a-z0-9_.:-]+$", max_length=100, label=_("Event type"), help_text=_("e.g. support_ticket_solved")
    )
    survey = forms.ModelChoiceField(
        queryset=Survey.objects.filter(is_fix_check=False).order_by("name"), label=_("Survey")
    )
    channel = forms.ChoiceField(choices=TriggerRule.ChannelChoice.choices, label=_("Channel"))
    delay_minutes = forms.IntegerField(min_value=0, max_value=525600, initial=0, label=_("Delay (minutes)"))
    sample_percent = forms.IntegerField(min_value=0, max_value=100, initial=100, label=_("Ask this share (%)"))
    expiry_days = forms.IntegerField(
        min_value=1, max_value=365, required=False, label=_("Link expires after (days)"), help_text=_("Empty: default.")
    )
    is_active = forms.BooleanField(required=False, initial=True, label=_("Active"))

    def clean_channel(self) -> str:
        channel = self.cleaned_data["channel"]
        if problem := trigger_rule_channel_problem(channel):
            raise forms.ValidationError(problem)
        return channel

    def service_fields(self, conditions: list[dict]) -> dict:
        data = self.cleaned_data
        return {
            "event_type": data["event_type"],
            "survey": data["survey"],
            "channel": data["channel"],
            "delay": timedelta(minutes=data["delay_minutes"]),
            "sample_rate": data["sample_percent"] / 100,
            "expiry": timedelta(days=data["expiry_days"]) if data["expiry_days"] else None,
            "is_active": data["is_active"],
            "conditions": conditions,
        }


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = [
            "position", "survey", "kind", "score_min", "score_max", "comment_contains", "comment_is_empty",
            "theme", "sentiment", "opens_follow_up", "team", "priority", "sla_hours", "assignment",
            "assignee_property", "fix_check_survey", "is_active",
        ]  # fmt: skip
        widgets = {"kind": forms.Select(choices=[("", _("any kind")), *Survey.Kind.choices])}
        labels = {
            "position": _("Position"),
            "survey": _("Survey"),
            "kind": _("Survey kind"),
            "score_min": _("Score from"),
            "score_max": _("Score to"),
            "comment_contains": _("Comment contains"),
            "comment_is_empty": _("Comment"),
            "theme": _("Comment's theme"),
            "sentiment": _("Comment's sentiment"),
            "opens_follow_up": _("Opens a case"),
            "team": _("Team"),
            "priority": _("Priority"),
            "sla_hours": _("SLA (hours)"),
            "assignment": _("Assignment"),
            "assignee_property": _("Assignee property"),
            "fix_check_survey": _("“Did we fix it?” survey"),
            "is_active": _("Active"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from insights.models import Theme

        themes = list(Theme.objects.values_list("slug", "name"))
        current = self.instance.theme if self.instance and self.instance.pk else ""
        if current and current not in dict(themes):
            themes.append((current, _("%(slug)s (no longer a theme)") % {"slug": current}))
        self.fields["theme"].widget = forms.Select(choices=[("", _("any theme")), *themes])


def _https_by_default(model_field, **kwargs):
    """A model's URLField takes an address typed without a scheme as https (Django 6's default, chosen now)."""
    if isinstance(model_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return model_field.formfield(**kwargs)


class TeamForm(forms.ModelForm):
    holidays_text = forms.CharField(
        required=False,
        label=_("Holidays"),
        help_text=_("One day per line, YYYY-MM-DD."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    members = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("email"), required=False, label=_("Members")
    )

    class Meta:
        model = Team
        formfield_callback = _https_by_default
        fields = [
            "name",
            "sla_hours",
            "time_zone",
            "working_days",
            "opens_at",
            "closes_at",
            "lead",
            "assignment",
            "slack_channel_id",
            "slack_webhook_url",
        ]
        widgets = {
            "opens_at": forms.TimeInput(attrs={"type": "time"}),
            "closes_at": forms.TimeInput(attrs={"type": "time"}),
        }
        labels = {
            "name": _("Name"),
            "sla_hours": _("SLA (hours)"),
            "time_zone": _("Time zone"),
            "working_days": _("Working days"),
            "opens_at": _("Opens at"),
            "closes_at": _("Closes at"),
            "lead": _("Team lead"),
            "assignment": _("New cases go to"),
            "slack_webhook_url": _("Slack incoming webhook URL"),
        }

    def __init__(self, *args, slack, **kwargs):
        """`slack` (console.selectors.SlackChoices) decides the Slack fields: with a bot token, a pick of the
        channels Slack listed; without one, the incoming webhook's URL alone, saying why there is no list."""
        super().__init__(*args, **kwargs)
        webhook = self.fields["slack_webhook_url"]
        if not slack.uses_bot:
            del self.fields["slack_channel_id"]
            webhook.help_text = _(
                "No Slack channel list: Closeloop lists channels only with a Slack app's bot token "
                "(SLACK_BOT_TOKEN), and none is set. An incoming webhook posts to the one channel it was made "
                "for; paste its URL here."
            )
            return
        current = self.instance.slack_channel_id if self.instance.pk else ""
        choices = [(channel.id, f"#{channel.name}") for channel in slack.channels]
        if current and current not in dict(choices):
            # Kept while Slack is unreachable (or the bot left it), so saving the team's hours keeps it too.
            choices.append((current, f"#{self.instance.slack_channel_name or current}"))
        self.fields["slack_channel_id"] = forms.ChoiceField(
            required=False,
            label=_("Slack channel"),
            choices=[("", _("No channel")), *choices],
            help_text=slack.problem
            or _("Channels the bot can see; invite it to a private channel to see that one here."),
        )
        webhook.help_text = _("Used only when no channel is picked above.")


class RootCauseForm(forms.ModelForm):
    class Meta:
        model = RootCause
        fields = ["name", "is_active", "outside_agent_control"]
        labels = {
            "name": _("Name"),
            "is_active": _("Active (unticked: retired)"),
            "outside_agent_control": _("Outside agents' control"),
        }


class WebhookSubscriptionForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Name"))
    url = forms.URLField(
        max_length=500, label=_("URL"), assume_scheme="https", help_text=_("Where each event is POSTed.")
    )
    events = forms.MultipleChoiceField(
        choices=WebhookSubscription.Event.choices, widget=forms.CheckboxSelectMultiple, label=_("Events")
    )
    is_active = forms.BooleanField(required=False, initial=True, label=_("Send events"))


class CannedReplyForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"), label=_("Team"))
    locale = forms.ChoiceField(choices=CannedReply._meta.get_field("locale").choices, label=_("Language"))
    title = forms.CharField(max_length=100, label=_("Title"), help_text=_("What agents pick in the reply box."))
    body = forms.CharField(
        max_length=1600,
        widget=forms.Textarea(attrs={"rows": 6}),
        label=_("Text"),
        help_text=_(
            "Placeholders: {first_name}, {name}, {email}, {team}, {case_id}, {order_id}, {event_id} and any "
            "property of the case's event or contact, e.g. {store}."
        ),
    )
    is_active = forms.BooleanField(required=False, initial=True, label=_("Offered in the reply box"))


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Name"))
    scopes = forms.MultipleChoiceField(
        choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple, label=_("Scopes")
    )
    survey = forms.ModelChoiceField(
        queryset=Survey.objects.order_by("name"),
        required=False,
        label=_("Survey"),
        help_text=_("Default survey (Delighted's project)."),
    )


class PublishableKeyForm(forms.Form):
    """A web widget key: the survey it shows and the sites that may show it."""

    name = forms.CharField(max_length=100, label=_("Name"))
    survey = forms.ModelChoiceField(queryset=Survey.objects.order_by("name"), label=_("Survey"))
    allowed_origins = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Allowed sites"),
        help_text=_("The sites that may show the widget, one per line, e.g. https://app.example.com."),
    )
    sample_factor = forms.FloatField(
        min_value=0,
        max_value=1,
        initial=1.0,
        label=_("Share asked"),
        help_text=_("Share of eligible visitors asked, from 0 to 1."),
    )
    recurring_period_days = forms.IntegerField(
        min_value=0,
        max_value=3650,
        initial=90,
        label=_("Ask again after (days)"),
        help_text=_("Days before the same person is asked again."),
    )

    def clean_allowed_origins(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["allowed_origins"].splitlines() if line.strip()]


# The language of a person's pages and emails; empty follows their browser (docs/languages.md).
PERSON_LANGUAGE_CHOICES = [("", _("Their browser's language")), *settings.LANGUAGES]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(choices=User.Role.choices, label=_("Role"))
    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"), required=False, label=_("Team"))
    language = forms.ChoiceField(choices=PERSON_LANGUAGE_CHOICES, required=False, label=_("Language"))


class UserForm(forms.Form):
    role = forms.ChoiceField(choices=User.Role.choices, label=_("Role"))
    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"), required=False, label=_("Team"))
    is_active = forms.BooleanField(required=False, label=_("Can sign in"))
    is_away = forms.BooleanField(
        required=False, label=_("Away"), help_text=_("No new case is assigned to them until this is unticked.")
    )
    language = forms.ChoiceField(choices=PERSON_LANGUAGE_CHOICES, required=False, label=_("Language"))


def scale_note(kind: str) -> str:
    scale = SCALES.get(kind)
    return f"{scale.low} to {scale.high}" if scale else ""


class BrandingForm(forms.ModelForm):
    class Meta:
        model = Branding
        formfield_callback = _https_by_default
        fields = ["sender_name", "sender_email", "reply_to", "logo_url", "brand_color", "footer", "sms_signature"]
        labels = {
            "sender_name": _("Sender name"),
            "sender_email": _("Sender email"),
            "reply_to": _("Reply-to address"),
            "logo_url": _("Logo URL"),
            "brand_color": _("Brand colour"),
            "footer": _("Footer"),
            "sms_signature": _("SMS signature"),
        }
        widgets = {
            "footer": forms.Textarea(attrs={"rows": 3}),
            "brand_color": forms.TextInput(attrs={"placeholder": "#1f4fd1"}),
        }


class SurveyLinkForm(forms.Form):
    """A survey's public link: its address, whether it takes answers, kiosk mode, the contact field."""

    slug = forms.SlugField(
        max_length=40,
        required=False,
        label=_("Link name"),
        help_text=_(
            "The link is /l/<name>/: 3 to 40 lowercase letters, digits and hyphens. Empty: one is made up. "
            "Changing it retires the old link and its printed QR codes."
        ),
    )
    is_enabled = forms.BooleanField(required=False, initial=True, label=_("Takes answers"))
    kiosk_enabled = forms.BooleanField(
        required=False,
        label=_("Allow kiosk mode"),
        help_text=_(
            "/l/<name>/?kiosk=1 on a shared tablet: full screen, one answer after another, back to the start "
            "after each thank-you."
        ),
    )
    ask_contact = forms.BooleanField(
        required=False, initial=True, label=_('Offer a "may we contact you?" email field with the reason')
    )

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "slug": data["slug"] or None,
            "is_enabled": data["is_enabled"],
            "kiosk_enabled": data["kiosk_enabled"],
            "ask_contact": data["ask_contact"],
        }


class DryRunForm(forms.Form):
    event_type = forms.RegexField(r"^[a-z0-9_.:-]+$", max_length=100, label=_("Event type"))
    properties = forms.JSONField(
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Properties"),
        help_text=_('e.g. {"priority": "high"}'),
    )

    def clean_properties(self):
        return _json_object(self.cleaned_data["properties"], '{"priority": "high"}')


def _json_object(value, example: str) -> dict:
    value = value or {}
    if not isinstance(value, dict):
        raise forms.ValidationError(_("Give a JSON object, e.g. %(example)s.") % {"example": example})
    return value


class RoutingDryRunForm(forms.Form):
    """An answer to try the routing rules on: its survey and score, and what else routing reads."""

    survey = forms.ModelChoiceField(queryset=Survey.objects.order_by("name"), label=_("Survey"))
    score = forms.IntegerField(min_value=-1000, max_value=1000, label=_("Score"))
    comment = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), label=_("Comment")
    )
    theme = forms.ChoiceField(required=False, label=_("Theme read in the comment"))
    sentiment = forms.ChoiceField(
        required=False,
        label=_("Sentiment read in the comment"),
        choices=[
            ("", _("(not read yet)")),
            ("positive", _("Positive")),
            ("neutral", _("Neutral")),
            ("negative", _("Negative")),
        ],
    )
    contact_properties = forms.JSONField(
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Contact properties"),
        help_text=_('e.g. {"plan": "pro"}'),
    )
    event_properties = forms.JSONField(
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Event properties"),
        help_text=_('e.g. {"store": "Lyon"}'),
    )

    def __init__(self, *args, theme_choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [("", _("(none)")), *theme_choices]

    def clean_contact_properties(self):
        return _json_object(self.cleaned_data["contact_properties"], '{"plan": "pro"}')

    def clean_event_properties(self):
        return _json_object(self.cleaned_data["event_properties"], '{"store": "Lyon"}')


class ConnectorForm(forms.Form):
    """A connector (integrations.connectors): its source, secret, event and, for Zendesk, the write-back."""

    name = forms.CharField(max_length=100, label=_("Name"))
    kind = forms.ChoiceField(choices=Connector.Kind.choices, label=_("Source"))
    secret = forms.CharField(
        max_length=200,
        required=False,
        label=_("Secret"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_(
            "Shopify: the webhooks' signing secret (or the app's client secret). Zendesk: the webhook's "
            "signing secret. Stripe: the endpoint's whsec_… secret. Any signed webhook: empty makes one. "
            "On a change, empty keeps the one saved."
        ),
    )
    event_type = forms.CharField(
        max_length=100,
        required=False,
        label=_("Event type"),
        help_text=_(
            "The event each delivery becomes (trigger rules wait for it). Empty: purchase for Shopify and "
            "Stripe checkouts, support_ticket_solved for Zendesk. Needed for any signed webhook."
        ),
    )
    field_map = forms.CharField(
        required=False,
        label=_("Field map (any signed webhook)"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            'JSON pointers into the body, e.g. {"email": "/customer/email", "name": "/customer/name", '
            '"event_id": "/id", "properties": {"plan": "/plan/name"}}.'
        ),
    )
    is_active = forms.BooleanField(required=False, initial=True, label=_("Active (unticked: deliveries are refused)"))
    zendesk_writeback = forms.BooleanField(
        required=False, label=_("Zendesk: write each answer on its ticket as an internal note")
    )
    zendesk_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label=_("Zendesk address"),
        help_text=_("https://yourcompany.zendesk.com"),
    )
    zendesk_email = forms.EmailField(required=False, label=_("Zendesk agent email"), help_text=_("The token's owner."))
    zendesk_api_token = forms.CharField(
        max_length=200,
        required=False,
        label=_("Zendesk API token"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_("Admin Center → Apps and integrations → Zendesk API. On a change, empty keeps the one saved."),
    )

    def __init__(self, *args, connector: Connector | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if connector is not None:
            # A connector's source never changes: the other system was set up for it.
            del self.fields["kind"]

    @staticmethod
    def initial_for(connector: Connector) -> dict:
        fields = ("name", "event_type", "is_active", "zendesk_writeback", "zendesk_url", "zendesk_email")
        initial = {name: getattr(connector, name) for name in fields}
        initial["field_map"] = json.dumps(connector.field_map, indent=2) if connector.field_map else ""
        return initial

    def clean_field_map(self):
        text = self.cleaned_data["field_map"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(
                _("This is not JSON: give an object such as %(example)s.") % {"example": '{"email": "/email"}'}
            ) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Give a JSON object, e.g. %(example)s.") % {"example": '{"email": "/email"}'})
        return value


class ErasureForm(forms.Form):
    """What a manager confirms before a person is erased (surveys.services.privacy.contact_erase)."""

    answers = forms.ChoiceField(
        choices=[
            ("keep", _("Keep their scores, anonymous (the dashboard's figures stay as they are)")),
            ("delete", _("Delete their answers too (the dashboard no longer counts them)")),
        ],
        initial="keep",
        widget=forms.RadioSelect,
        label=_("Their answers"),
    )
    suppress = forms.BooleanField(
        required=False,
        label=_("They asked never to be contacted again"),
        help_text=_("A keyed hash of their email and phone (not the addresses) keeps them out of every future survey."),
    )
    confirm = forms.BooleanField(
        label=_("I understand this cannot be undone"),
        error_messages={"required": _("Tick this box to confirm the erasure.")},
    )


class ContactSearchForm(forms.Form):
    q = forms.CharField(
        max_length=320, required=False, label=_("Email, phone, name, external id or contact id"), strip=True
    )
