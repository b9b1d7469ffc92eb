"""Configuration writes of the manager's console and of the native API (both call these): surveys and
their additional questions, routing rules, teams, root causes, people, API keys and connectors.

Owns the audit trail: every write here records one `AuditEntry` (who, what, each field before → after)
in the same transaction as the change. Checks what a form or a serializer cannot (a score range within
the survey's scale, a question with answers is not deleted); raises Django's ValidationError with
field-level messages. Sends nothing itself but the invitation email of a new person (a Message row).

Longer than 400 lines on purpose: every configuration write records its audit entry through the same
helpers at the top (`snapshot`, `audit_record`, `_save_with_audit`, `_delete_with_audit`); one module per
resource would split the checks and their audit across files for ~40 lines each.
"""

import zoneinfo
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from console.models import AuditEntry
from feedback.models import CannedReply, RootCause, RoutingRule, Team, User
from feedback.services.conversation import canned_reply_save
from integrations.connectors import connector_delete as integrations_connector_delete
from integrations.connectors import connector_save as integrations_connector_save
from integrations.models import Connector, WebhookSubscription
from integrations.slack import SlackError, slack_channels, slack_uses_bot
from integrations.webhooks import webhook_subscription_save
from notifications.models import Channel
from notifications.services.emails import email_render
from notifications.services.queue import message_queue
from notifications.sms_text import gsm_safe
from surveys.branding import branding_forget, color_errors
from surveys.conditions import conditions_errors
from surveys.models import (
    END_LABEL_MAX_LENGTH,
    THANK_YOU_MAX_LENGTH,
    ApiKey,
    Branding,
    PublishableKey,
    Question,
    Survey,
    SurveyLink,
    TriggerRule,
)
from surveys.scales import SCALES, SUPPORTED_LOCALES
from surveys.services.api_keys import api_key_create, api_keys_revoke
from surveys.services.dispatch import invitation_preview
from surveys.services.links import survey_link_save
from surveys.services.publishable_keys import (
    publishable_key_create,
    publishable_key_revoke,
    publishable_key_update,
)
from surveys.services.surveys import survey_mark_fix_check
from surveys.services.trigger_rules import trigger_rule_create, trigger_rule_update

Actor = User | ApiKey | None

SURVEY_FIELDS = (
    "name",
    "kind",
    "product_name",
    "default_locale",
    "question_text",
    "low_label",
    "high_label",
    "thank_you_text",
    "thank_you_link_url",
    "reminder_after_days",
    "link_expiry_days",
    "fatigue_survey_days",
    "fatigue_global_days",
    "is_active",
)
# Days a survey's own expiry and fatigue windows may span (empty: the workspace's default): a year, as a rule's.
SURVEY_DAYS_BOUNDS = {"link_expiry_days": (1, 365), "fatigue_survey_days": (0, 365), "fatigue_global_days": (0, 365)}
QUESTION_FIELDS = ("kind", "text", "choices", "scale_max", "show_if_score_min", "show_if_score_max", "show_if_answer")
ROUTING_RULE_FIELDS = tuple(
    field.name for field in RoutingRule._meta.concrete_fields if field.name not in ("id",) and not field.auto_created
)
TEAM_FIELDS = (
    "name",
    "sla_hours",
    "time_zone",
    "working_days",
    "opens_at",
    "closes_at",
    "holidays",
    "lead",
    "slack_webhook_url",
    "slack_channel_id",
    "slack_channel_name",
    "assignment",
)
ROOT_CAUSE_FIELDS = ("name", "is_active", "outside_agent_control")
SURVEY_LINK_FIELDS = ("slug", "is_enabled", "kiosk_enabled", "ask_contact")
USER_FIELDS = ("email", "first_name", "last_name", "role", "team", "is_active", "is_away", "language")


# --- the audit trail ----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A field's value as JSON: related rows by id, times as ISO strings."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: models.Model, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def _actor_label(actor: Actor) -> str:
    if isinstance(actor, User):
        return actor.email
    if isinstance(actor, ApiKey):
        return f"API key {actor.name} ({actor.prefix}…)"
    return "system"


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: models.Model,
    before: dict | None = None,
    after: dict | None = None,
    actor_label: str = "",
) -> AuditEntry | None:
    """Record a change; an update that changed nothing records nothing. `actor_label` names an actor that is
    neither a person nor a key (a sign-in with the identity provider)."""
    before, after = before or {}, after or {}
    changes = {
        name: [before.get(name), after.get(name)]
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }
    if action == AuditEntry.Action.UPDATED and not changes:
        return None
    return AuditEntry.objects.create(
        actor=actor if isinstance(actor, User) else None,
        actor_label=actor_label or _actor_label(actor),
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=changes,
    )


def audit_purge_record(*, actor_label: str, kind: str, label: str, days: int, removed: int) -> AuditEntry:
    """What a retention purge removed of one kind: its label, age and row count, never what the rows held."""
    return AuditEntry.objects.create(
        actor=None,
        actor_label=actor_label,
        action=AuditEntry.Action.PURGED,
        object_type="expired data",
        object_id=kind,
        object_repr=f"{label} older than {days} days",
        changes={"rows": [None, removed]},
    )


def privacy_request_audit(
    *, action: str, contact_id: int, rows: dict[str, int], mode: str, actor: Actor, actor_label: str = ""
) -> AuditEntry:
    """Record a person's erasure or export: who, when, how (`mode`) and how many rows of each kind, as
    `{kind: [None, rows]}`; never the person's data (the contact is named by its id only)."""
    changes = {kind: [None, count] for kind, count in sorted(rows.items())}
    if mode:
        changes["mode"] = [None, mode]
    return AuditEntry.objects.create(
        actor=actor if isinstance(actor, User) else None,
        actor_label=actor_label or _actor_label(actor),
        action=action,
        object_type="contact",
        object_id=str(contact_id),
        object_repr=f"contact {contact_id}",
        changes=changes,
    )


# --- surveys ------------------------------------------------------------------------------------


def _check_locales(field: str, texts: dict, errors: dict) -> None:
    unknown = sorted(set(texts) - set(SUPPORTED_LOCALES))
    if unknown:
        errors[field] = [
            _("Unknown locale %(unknown)s; use %(locales)s.")
            % {"unknown": ", ".join(unknown), "locales": ", ".join(SUPPORTED_LOCALES)}
        ]


def _answer_condition_errors(prefix: str, condition, earlier: list[dict]) -> dict[str, list[str]]:
    """Errors of "ask only when an earlier question's answer is one of …", keyed `<prefix>.show_if_answer.<part>`."""
    prefix = f"{prefix}.show_if_answer"
    if not isinstance(condition, dict):
        return {prefix: [_('Give {"question": <an earlier question\'s place, from 0>, "values": [its answers]}.')]}
    position = condition.get("question")
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < len(earlier):
        return {f"{prefix}.question": [_("Pick a question asked before this one.")]}
    source = earlier[position]
    allowed = Question(
        kind=source.get("kind"), choices=source.get("choices") or [], scale_max=source.get("scale_max") or 5
    ).answer_values()
    if source.get("kind") == Question.Kind.FREE_TEXT:
        return {
            f"{prefix}.question": [
                _("A written answer cannot decide: pick a question with options, yes/no or a scale.")
            ]
        }
    values = condition.get("values")
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(value, str) and value in allowed for value in values)
    ):
        return {
            f"{prefix}.values": [
                _("Pick one or more of question %(n)s's answers: %(answers)s.")
                % {"n": position + 1, "answers": ", ".join(allowed)}
            ]
        }
    return {}


def _question_errors(kind: str, index: int, question: dict, earlier: list[dict]) -> dict[str, list[str]]:
    """Field errors of one additional question, keyed `questions.<index>.<field>`; `earlier` are the questions
    before it, which its condition on an answer may name."""
    errors: dict[str, list[str]] = {}
    prefix = f"questions.{index}"
    text = question.get("text") or {}
    if not isinstance(text, dict) or not any(isinstance(v, str) and v.strip() for v in text.values()):
        errors[f"{prefix}.text"] = [_("Write the question in at least one language.")]
    else:
        _check_locales(f"{prefix}.text", text, errors)
    if question.get("kind") in (Question.Kind.SELECT_ONE, Question.Kind.SELECT_MANY):
        choices = question.get("choices") or []
        values = [str(choice.get("value", "")).strip() for choice in choices if isinstance(choice, dict)]
        if len(values) < 2 or len(values) != len(choices) or not all(values):
            errors[f"{prefix}.choices"] = [_("Give at least two options, each with a value.")]
        elif len(set(values)) != len(values):
            errors[f"{prefix}.choices"] = [_("Each option needs its own value.")]
    elif question.get("kind") == Question.Kind.YES_NO and question.get("choices"):
        errors[f"{prefix}.choices"] = [_("A yes/no question has its own answers: leave the options empty.")]
    if question.get("show_if_answer") is not None:
        errors.update(_answer_condition_errors(prefix, question["show_if_answer"], earlier))
    scale = SCALES[kind]
    low, high = question.get("show_if_score_min"), question.get("show_if_score_max")
    for field, bound in (("show_if_score_min", low), ("show_if_score_max", high)):
        if bound is not None and bound not in scale.scores:
            errors[f"{prefix}.{field}"] = [_score_range_error(scale)]
    if low is not None and high is not None and low > high and f"{prefix}.show_if_score_max" not in errors:
        errors[f"{prefix}.show_if_score_max"] = [_("The highest score must be at least the lowest.")]
    return errors


def _score_range_error(scale) -> str:
    return _("Pick a score from %(low)s to %(high)s.") % {"low": scale.low, "high": scale.high}


# A survey's per-locale texts and how long each may be.
SURVEY_TEXTS = {
    "question_text": 1000,
    "low_label": END_LABEL_MAX_LENGTH,
    "high_label": END_LABEL_MAX_LENGTH,
    "thank_you_text": THANK_YOU_MAX_LENGTH,
}


def _survey_texts_errors(survey: Survey) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if survey.default_locale not in SUPPORTED_LOCALES:
        errors["default_locale"] = [_("Choose one of %(locales)s.") % {"locales": ", ".join(SUPPORTED_LOCALES)}]
    for field, longest in SURVEY_TEXTS.items():
        texts = getattr(survey, field) or {}
        _check_locales(field, texts, errors)
        if field not in errors and any(len(text) > longest for text in texts.values()):
            errors[field] = [_("Keep each language's text to %(n)s characters.") % {"n": longest}]
    return errors


def _survey_days_errors(survey: Survey) -> dict[str, list[str]]:
    errors = {}
    for field, (low, high) in SURVEY_DAYS_BOUNDS.items():
        days = getattr(survey, field)
        if days is not None and not low <= days <= high:
            errors[field] = [
                _("Give a number of days from %(low)s to %(high)s, or leave it empty.") % {"low": low, "high": high}
            ]
    lifetime = survey.link_expiry_days or settings.INVITATION_EXPIRY_DAYS
    # A reminder goes only while the link still records answers (`invitations_remind_due`).
    if "link_expiry_days" not in errors and (survey.reminder_after_days or 0) >= lifetime:
        errors["reminder_after_days"] = [
            _("Remind before the links expire, after %(days)s days: give fewer days.") % {"days": lifetime}
        ]
    return errors


def _survey_check(survey: Survey, questions: list[dict] | None) -> None:
    errors: dict[str, list[str]] = {}
    if survey.kind not in SCALES:
        errors["kind"] = [_("Choose one of %(choices)s.") % {"choices": ", ".join(SCALES)}]
        raise ValidationError(errors)
    errors.update(_survey_texts_errors(survey))
    errors.update(_survey_days_errors(survey))
    questions = questions or []
    for index, question in enumerate(questions):
        errors.update(_question_errors(survey.kind, index, question, questions[:index]))
    if errors:
        raise ValidationError(errors)


def _questions_save(survey: Survey, questions: list[dict]) -> None:
    """Make the survey's additional questions exactly `questions`, in order: an item with the `id` of one of
    its questions changes it, one without adds a question; a question left out is deleted unless answered."""
    existing = {question.pk: question for question in survey.questions.all()}
    kept = {item["id"] for item in questions if item.get("id") in existing}
    unknown = [item["id"] for item in questions if item.get("id") is not None and item["id"] not in existing]
    if unknown:
        raise ValidationError({"questions": [_("No question %(id)s in this survey.") % {"id": unknown[0]}]})
    dropped = [pk for pk in existing if pk not in kept]
    answered = set(
        Question.objects.filter(pk__in=dropped, answers__isnull=False).values_list("pk", flat=True).distinct()
    )
    if answered:
        raise ValidationError(
            {"questions": [_("A question that has answers cannot be removed; narrow who is asked it instead.")]}
        )
    Question.objects.filter(pk__in=dropped).delete()
    for position, item in enumerate(questions):
        question = existing.get(item.get("id")) or Question(survey=survey)
        for name in QUESTION_FIELDS:
            if name in item:
                setattr(question, name, item[name])
        question.position = position
        question.save()


def _survey_state(survey: Survey) -> dict:
    state = snapshot(survey, SURVEY_FIELDS)
    state["questions"] = [
        {"id": q.pk, **snapshot(q, QUESTION_FIELDS)} for q in survey.questions.order_by("position", "pk")
    ]
    return state


@transaction.atomic
def survey_create(*, actor: Actor, questions: list[dict] | None = None, **fields) -> Survey:
    survey = Survey(**{name: value for name, value in fields.items() if name in SURVEY_FIELDS})
    _survey_check(survey, questions)
    survey.save()
    _questions_save(survey, questions or [])
    audit_record(actor=actor, action=AuditEntry.Action.CREATED, obj=survey, after=_survey_state(survey))
    return survey


@transaction.atomic
def survey_update(*, actor: Actor, survey: Survey, questions: list[dict] | None = None, **fields) -> Survey:
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    before = _survey_state(survey)
    for name, value in fields.items():
        if name in SURVEY_FIELDS:
            setattr(survey, name, value)
    if "kind" in fields and fields["kind"] != before["kind"] and survey.responses.exists():
        raise ValidationError({"kind": [_("A survey with answers keeps its kind; duplicate it to ask another way.")]})
    current = before["questions"] if questions is None else questions
    _survey_check(survey, current)
    survey.save()
    if questions is not None:
        _questions_save(survey, questions)
    audit_record(actor=actor, action=AuditEntry.Action.UPDATED, obj=survey, before=before, after=_survey_state(survey))
    return survey


@transaction.atomic
def survey_duplicate(*, actor: Actor, survey: Survey) -> Survey:
    """A paused copy named "<name> (copy)", with its questions; answers and rules stay with the original."""
    state = _survey_state(survey)
    questions = [{name: q[name] for name in QUESTION_FIELDS} for q in state.pop("questions")]
    state.update(name=f"{survey.name} (copy)"[:200], is_active=False)
    copy = Survey(**state)
    copy.save()
    _questions_save(copy, questions)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.DUPLICATED,
        obj=copy,
        after={"duplicate_of": survey.pk, **_survey_state(copy)},
    )
    return copy


# --- routing rules, teams, root causes ------------------------------------------------------------


@transaction.atomic
def survey_link_change(*, actor: Actor, survey: Survey, **changes) -> tuple[SurveyLink, bool]:
    """Create the survey's public link or change it (`slug`, `is_enabled`, `kiosk_enabled`, `ask_contact`), with
    its audit entry; whether it was created."""
    current = SurveyLink.objects.filter(survey=survey).first()
    fields = {name: changes.get(name) for name in SURVEY_LINK_FIELDS}
    link = _audited_write(actor, current, SURVEY_LINK_FIELDS, lambda: survey_link_save(survey=survey, **fields))
    return link, current is None


def _audited_write(actor: Actor, current: models.Model | None, fields: tuple[str, ...], write, action=None):
    """Run `write()`, a lower app's own create, change or revoke of `current` (None: it creates), and record
    before → after in the audit trail; what `write` returned (the saved row)."""
    before = snapshot(current, fields) if current else {}
    saved = write()
    action = action or (AuditEntry.Action.UPDATED if current else AuditEntry.Action.CREATED)
    audit_record(actor=actor, action=action, obj=saved, before=before, after=snapshot(saved, fields))
    return saved


def _save_with_audit(actor: Actor, obj: models.Model, fields: tuple[str, ...], changes: dict) -> models.Model:
    creating = obj.pk is None
    before = {} if creating else snapshot(obj, fields)
    for name, value in changes.items():
        if name in fields:
            setattr(obj, name, value)
    try:
        obj.full_clean(validate_unique=True)
    except ValidationError as exc:
        raise ValidationError({name: msgs for name, msgs in exc.message_dict.items()}) from exc
    obj.save()
    action = AuditEntry.Action.CREATED if creating else AuditEntry.Action.UPDATED
    audit_record(actor=actor, action=action, obj=obj, before=before, after=snapshot(obj, fields))
    return obj


def _delete_with_audit(actor: Actor, obj: models.Model, fields: tuple[str, ...]) -> None:
    before = snapshot(obj, fields)
    audit_record(actor=actor, action=AuditEntry.Action.DELETED, obj=obj, before=before)
    obj.delete()


def _routing_rule_check(rule: RoutingRule) -> None:
    errors = {}
    kind = rule.survey.kind if rule.survey_id else rule.kind
    if rule.survey_id and rule.kind and rule.kind != rule.survey.kind:
        errors["kind"] = [
            _("The survey %(survey)s is a %(kind)s survey.") % {"survey": rule.survey, "kind": rule.survey.kind}
        ]
    if kind and kind not in SCALES:
        errors["kind"] = [_("Pick one of %(choices)s.") % {"choices": ", ".join(SCALES)}]
    elif kind:
        scale = SCALES[kind]
        for field in ("score_min", "score_max"):
            value = getattr(rule, field)
            if value is not None and value not in scale.scores:
                errors[field] = [_score_range_error(scale)]
    if rule.score_min is not None and rule.score_max is not None and rule.score_min > rule.score_max:
        errors.setdefault("score_max", [_("The highest score must be at least the lowest.")])
    if rule.opens_follow_up and rule.team_id is None:
        errors["team"] = [_("A rule that opens follow-ups needs a team.")]
    if rule.assignment == RoutingRule.Assignment.PROPERTY and not rule.assignee_property:
        errors["assignee_property"] = [_("Name the property that holds the agent's email.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def routing_rule_save(*, actor: Actor, rule: RoutingRule | None = None, **changes) -> RoutingRule:
    rule = rule or RoutingRule()
    for name, value in changes.items():
        setattr(rule, name, value)
    _routing_rule_check(rule)
    if rule.fix_check_survey_id:
        survey_mark_fix_check(survey_id=rule.fix_check_survey_id)
    # `changes` were set above so the checks saw them; the audit compares against the stored row.
    stored = RoutingRule.objects.filter(pk=rule.pk).first() if rule.pk else None
    before = snapshot(stored, ROUTING_RULE_FIELDS) if stored else {}
    rule.full_clean()
    rule.save()
    action = AuditEntry.Action.UPDATED if stored else AuditEntry.Action.CREATED
    audit_record(actor=actor, action=action, obj=rule, before=before, after=snapshot(rule, ROUTING_RULE_FIELDS))
    return rule


@transaction.atomic
def routing_rule_delete(*, actor: Actor, rule: RoutingRule) -> None:
    _delete_with_audit(actor, rule, ROUTING_RULE_FIELDS)


def _slack_channel_name(channel_id: str) -> tuple[str, str]:
    """The name Slack lists for the channel, or the field's error."""
    if not slack_uses_bot():
        return "", _(
            "Closeloop picks Slack channels with a bot token (SLACK_BOT_TOKEN), and none is set: give the team an "
            "incoming webhook URL instead."
        )
    try:
        channels = slack_channels()
    except SlackError as exc:
        return "", str(exc)
    name = next((channel.name for channel in channels if channel.id == channel_id), None)
    if name is None:
        return "", _("Slack lists no such channel for the bot: invite the bot to a private channel, then pick it.")
    return name, ""


def _team_check(team: Team | None, changes: dict) -> None:
    errors = {}
    channel_id = changes.get("slack_channel_id")
    # Slack is asked only when the channel changes: saving a team's hours must not depend on Slack being up.
    if channel_id and channel_id != (team.slack_channel_id if team else ""):
        changes["slack_channel_name"], error = _slack_channel_name(channel_id)
        if error:
            errors["slack_channel_id"] = [error]
    elif "slack_channel_id" in changes and not channel_id:
        changes["slack_channel_name"] = ""
    if "time_zone" in changes and changes["time_zone"] not in zoneinfo.available_timezones():
        errors["time_zone"] = [_("Unknown time zone; use an IANA name such as Europe/Paris.")]
    if "working_days" in changes:
        days = [day.strip() for day in str(changes["working_days"]).split(",") if day.strip()]
        if not days or any(day not in "0123456" or len(day) != 1 for day in days):
            errors["working_days"] = [_("Give weekdays from 0 (Monday) to 6 (Sunday), comma separated.")]
        else:
            changes["working_days"] = ",".join(sorted(set(days)))
    if "holidays" in changes:
        try:
            changes["holidays"] = sorted({date.fromisoformat(str(day)).isoformat() for day in changes["holidays"]})
        except (TypeError, ValueError):
            errors["holidays"] = [_("Give days as YYYY-MM-DD.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def team_save(*, actor: Actor, team: Team | None = None, members: list[User] | None = None, **changes) -> Team:
    """Create or change a team; `members`, when given, become exactly its agents and managers. A Slack channel
    must be one Slack lists for the workspace's bot."""
    _team_check(team, changes)
    team = _save_with_audit(actor, team or Team(), TEAM_FIELDS, changes)
    if team.opens_at >= team.closes_at:
        raise ValidationError({"closes_at": [_("The team must close after it opens.")]})
    if members is not None:
        before = sorted(team.members.values_list("email", flat=True))
        User.objects.filter(team=team).exclude(pk__in=[m.pk for m in members]).update(team=None)
        User.objects.filter(pk__in=[m.pk for m in members]).update(team=team)
        after = sorted(member.email for member in members)
        audit_record(
            actor=actor,
            action=AuditEntry.Action.UPDATED,
            obj=team,
            before={"members": before},
            after={"members": after},
        )
    return team


@transaction.atomic
def team_delete(*, actor: Actor, team: Team) -> None:
    if team.follow_ups.exists():
        raise ValidationError({"team": [_("This team has cases; move them or keep the team.")]})
    _delete_with_audit(actor, team, TEAM_FIELDS)


@transaction.atomic
def root_cause_save(*, actor: Actor, root_cause: RootCause | None = None, **changes) -> RootCause:
    return _save_with_audit(actor, root_cause or RootCause(), ROOT_CAUSE_FIELDS, changes)


# --- webhook subscriptions ------------------------------------------------------------------------

# The secret is never in the trail: whoever reads the audit must not be able to sign a delivery.
WEBHOOK_FIELDS = ("name", "url", "events", "is_active")


@transaction.atomic
def webhook_subscription_change(
    *, actor: Actor, subscription: WebhookSubscription | None = None, **fields
) -> WebhookSubscription:
    """Create or change a subscription (integrations.webhooks checks its URL and events; a new one gets a random
    secret), recorded in the audit trail without its secret."""
    return _audited_write(
        actor, subscription, WEBHOOK_FIELDS, lambda: webhook_subscription_save(subscription=subscription, **fields)
    )


@transaction.atomic
def webhook_subscription_delete(*, actor: Actor, subscription: WebhookSubscription) -> None:
    _delete_with_audit(actor, subscription, WEBHOOK_FIELDS)


def webhook_secret_rotation_audit(
    *, actor: Actor, subscription: WebhookSubscription, previous_secret_expires_at
) -> AuditEntry | None:
    """Record a rotation by when the replaced secret stops signing (before → after), never a secret."""
    return audit_record(
        actor=actor,
        action=AuditEntry.Action.ROTATED,
        obj=subscription,
        before={"previous_secret_expires_at": _plain(previous_secret_expires_at)},
        after={"previous_secret_expires_at": _plain(subscription.previous_secret_expires_at)},
    )


# --- canned replies -----------------------------------------------------------------------------

CANNED_REPLY_FIELDS = ("team", "locale", "title", "body", "is_active")


@transaction.atomic
def canned_reply_change(*, actor: Actor, canned: CannedReply | None = None, **changes) -> CannedReply:
    """Create or change a team's canned reply through feedback's own checks (title unique per team and language,
    body within an SMS), recorded in the audit trail. A change gives only the fields it changes."""
    fields = {name: getattr(canned, name) for name in CANNED_REPLY_FIELDS} if canned else {}
    return _audited_write(
        actor, canned, CANNED_REPLY_FIELDS, lambda: canned_reply_save(canned=canned, **(fields | changes))
    )


@transaction.atomic
def canned_reply_delete(*, actor: Actor, canned: CannedReply) -> None:
    _delete_with_audit(actor, canned, CANNED_REPLY_FIELDS)


# --- people -------------------------------------------------------------------------------------


def set_password_link(user: User) -> str:
    """Django's own password reset link (one use, expires after PASSWORD_RESET_TIMEOUT)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{settings.SITE_URL}/accounts/reset/{uid}/{default_token_generator.make_token(user)}/"


def staff_email_send(*, user: User, template: str, context: dict) -> None:
    subject, text, html = email_render(
        template=template, context={"user": user, **context}, language=user.email_language
    )
    message_queue(channel=Channel.EMAIL, recipient=user.email, subject=subject, body_text=text, body_html=html)


def _user_check(user: User) -> None:
    if user.role not in User.Role.values:
        raise ValidationError({"role": [_("Choose one of %(choices)s.") % {"choices": ", ".join(User.Role.values)}]})
    if user.language and user.language not in dict(settings.LANGUAGES):
        raise ValidationError(
            {
                "language": [
                    _("Choose one of %(choices)s, or empty for the browser's.")
                    % {"choices": ", ".join(dict(settings.LANGUAGES))}
                ]
            }
        )
    if User.objects.filter(email__iexact=user.email).exclude(pk=user.pk).exists():
        raise ValidationError({"email": [_("Someone already signs in as %(email)s.") % {"email": user.email}]})


@transaction.atomic
def user_invite(
    *,
    actor: Actor,
    email: str,
    role: str,
    team: Team | None = None,
    first_name: str = "",
    last_name: str = "",
    language: str = "",
) -> User:
    """Create the person without a password and email them a link to set one (in `language`, if chosen)."""
    user = User(
        email=User.objects.normalize_email(email).lower(),
        role=role,
        team=team,
        first_name=first_name,
        last_name=last_name,
        language=language,
    )
    _user_check(user)
    user.set_unusable_password()
    user.save()
    audit_record(actor=actor, action=AuditEntry.Action.INVITED, obj=user, after=snapshot(user, USER_FIELDS))
    staff_email_send(
        user=user,
        template="console/emails/invitation",
        context={"link": set_password_link(user), "inviter": _actor_label(actor), "site_url": settings.SITE_URL},
    )
    return user


@transaction.atomic
def user_update(*, actor: Actor, user: User, **changes) -> User:
    if (
        isinstance(actor, User)
        and actor.pk == user.pk
        and (changes.get("is_active") is False or changes.get("role", user.role) != user.role)
    ):
        raise ValidationError({"role": [_("You cannot change your own role or deactivate yourself.")]})
    before = snapshot(user, USER_FIELDS)
    for name, value in changes.items():
        if name in USER_FIELDS:
            setattr(user, name, value)
    _user_check(user)
    user.save()
    audit_record(
        actor=actor, action=AuditEntry.Action.UPDATED, obj=user, before=before, after=snapshot(user, USER_FIELDS)
    )
    return user


# --- API keys -----------------------------------------------------------------------------------

API_KEY_FIELDS = ("name", "scopes", "survey", "revoked_at")


@transaction.atomic
def console_api_key_create(
    *, actor: Actor, name: str, scopes: list[str], survey: Survey | None = None
) -> tuple[ApiKey, str]:
    """A new key and its raw value, shown once; the trail records the key, never its value."""
    unknown = sorted(set(scopes) - set(ApiKey.Scope.values))
    if unknown or not scopes:
        raise ValidationError(
            {"scopes": [_("Choose among %(choices)s.") % {"choices": ", ".join(ApiKey.Scope.values)}]}
        )

    api_key, raw = api_key_create(name=name, scopes=list(dict.fromkeys(scopes)), survey=survey)
    audit_record(actor=actor, action=AuditEntry.Action.CREATED, obj=api_key, after=snapshot(api_key, API_KEY_FIELDS))
    return api_key, raw


# --- web widget keys ----------------------------------------------------------------------------

PUBLISHABLE_KEY_FIELDS = ("name", "survey", "allowed_origins", "sample_factor", "recurring_period_days", "revoked_at")


@transaction.atomic
def console_publishable_key_create(*, actor: Actor, survey: Survey, **fields) -> PublishableKey:
    """A web widget key for `survey`; public, so the trail records it whole."""
    publishable_key = publishable_key_create(survey=survey, **fields)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATED,
        obj=publishable_key,
        after=snapshot(publishable_key, PUBLISHABLE_KEY_FIELDS),
    )
    return publishable_key


@transaction.atomic
def console_publishable_key_update(*, actor: Actor, publishable_key: PublishableKey, **changes) -> PublishableKey:
    def write():
        publishable_key_update(publishable_key=publishable_key, **changes)
        return publishable_key

    return _audited_write(actor, publishable_key, PUBLISHABLE_KEY_FIELDS, write)


@transaction.atomic
def console_publishable_key_revoke(*, actor: Actor, publishable_key: PublishableKey) -> PublishableKey:
    if publishable_key.revoked_at is not None:
        return publishable_key

    def write():
        publishable_key_revoke(publishable_key=publishable_key)
        return publishable_key

    return _audited_write(actor, publishable_key, PUBLISHABLE_KEY_FIELDS, write, AuditEntry.Action.REVOKED)


@transaction.atomic
def console_api_key_revoke(*, actor: Actor, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is not None:
        return api_key

    def write():
        api_keys_revoke(ids=[api_key.pk])
        api_key.refresh_from_db()
        return api_key

    return _audited_write(actor, api_key, API_KEY_FIELDS, write, AuditEntry.Action.REVOKED)


# --- trigger rules and tests --------------------------------------------------------------------

TRIGGER_RULE_FIELDS = (
    "event_type",
    "survey",
    "channel",
    "delay",
    "conditions",
    "sample_rate",
    "expiry",
    "cancel_on_event_types",
    "match_property",
    "is_active",
)


@transaction.atomic
def trigger_rule_save(*, actor: Actor, rule: TriggerRule | None = None, **changes) -> TriggerRule:
    """Create or change a trigger rule through intake's own writes (they forget the cached rules)."""
    errors = conditions_errors(changes.get("conditions", rule.conditions if rule else []))
    if errors:
        raise ValidationError({"conditions": errors})
    return _audited_write(
        actor,
        rule,
        TRIGGER_RULE_FIELDS,
        lambda: trigger_rule_update(rule=rule, **changes) if rule else trigger_rule_create(**changes),
    )


@transaction.atomic
def trigger_rule_delete(*, actor: Actor, rule: TriggerRule) -> None:
    _delete_with_audit(actor, rule, TRIGGER_RULE_FIELDS)


def survey_send_test(*, user: User, survey: Survey, locale: str) -> None:
    """Email the survey as a customer would get it, in `locale`, to the person asking (links lead nowhere)."""
    rendered = invitation_preview(survey=survey, locale=locale, channel=Channel.EMAIL)
    rendered.update(recipient=user.email, subject=f"[Test] {rendered['subject']}")
    rendered.pop("unsubscribe_hash", None)
    message_queue(**rendered)


# --- branding -----------------------------------------------------------------------------------

BRANDING_FIELDS = ("sender_name", "sender_email", "reply_to", "logo_url", "brand_color", "footer", "sms_signature")


def branding_get(*, survey: Survey | None = None) -> Branding:
    """The workspace's branding (no survey) or a survey's own, unsaved and empty if there is none yet."""
    return Branding.objects.filter(survey=survey).first() or Branding(survey=survey)


@transaction.atomic
def branding_save(*, actor: Actor, survey: Survey | None = None, **changes) -> Branding:
    """Set the workspace's or one survey's branding; the brand colour must carry white text at 4.5:1 (WCAG AA)."""
    branding = Branding.objects.select_for_update().filter(survey=survey).first() or Branding(survey=survey)
    if "brand_color" in changes:
        changes["brand_color"] = (changes["brand_color"] or "").strip().lower()
        errors = color_errors(changes["brand_color"])
        if errors:
            raise ValidationError({"brand_color": errors})
    if "sms_signature" in changes:
        changes["sms_signature"] = gsm_safe((changes["sms_signature"] or "").strip())
    saved = _save_with_audit(actor, branding, BRANDING_FIELDS, changes)
    branding_forget()
    transaction.on_commit(branding_forget)
    return saved


# --- connectors ---------------------------------------------------------------------------------

CONNECTOR_FIELDS = (
    "name",
    "kind",
    "event_type",
    "field_map",
    "is_active",
    "zendesk_writeback",
    "zendesk_url",
    "zendesk_email",
)
# Never written to the audit trail: only whether each is set, and that it changed.
CONNECTOR_SECRETS = ("secret", "zendesk_api_token")


def _connector_snapshot(connector: Connector) -> dict[str, Any]:
    values = snapshot(connector, CONNECTOR_FIELDS)
    values.update({name: "set" if getattr(connector, name) else "" for name in CONNECTOR_SECRETS})
    return values


@transaction.atomic
def connector_save(*, actor: Actor, connector: Connector | None = None, **fields) -> Connector:
    """Create or change a connector (integrations.connectors checks it) and record who did, secrets hidden."""
    before = _connector_snapshot(connector) if connector else None
    secrets_before = {name: getattr(connector, name) for name in CONNECTOR_SECRETS} if connector else {}
    saved = integrations_connector_save(connector=connector, **fields)
    after = _connector_snapshot(saved)
    for name, value in secrets_before.items():
        if value and getattr(saved, name) and value != getattr(saved, name):
            after[name] = "changed"
    action = AuditEntry.Action.UPDATED if before is not None else AuditEntry.Action.CREATED
    audit_record(actor=actor, action=action, obj=saved, before=before, after=after)
    return saved


@transaction.atomic
def connector_delete(*, actor: Actor, connector: Connector) -> None:
    audit_record(actor=actor, action=AuditEntry.Action.DELETED, obj=connector, before=_connector_snapshot(connector))
    integrations_connector_delete(connector=connector)
