"""The manager's console at `/settings/`: server-rendered pages over `console.services` (the API calls the
same writes). Managers only: an agent gets 403, a visitor goes to sign in. A refused change shows the
form again with each field's message (400), never a half-written row.

Longer than 400 lines on purpose: one thin view per console page (list, edit, preview of each resource)
behind one manager-only guard; they share the form-error rendering and nothing else to split along.
"""

from functools import partial

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Count, Prefetch
from django.forms import Form
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from console import forms, selectors, services
from console.models import AuditEntry
from feedback import routing_dry_run
from feedback.decorators import manager_required
from feedback.models import CannedReply, RootCause, RoutingRule, Team, User
from insights.taxonomy import themes_active
from notifications.models import Channel
from notifications.sms_text import sms_segments
from surveys.branding import branding_for
from surveys.models import ApiKey, PublishableKey, Survey, TriggerRule
from surveys.scales import SCALES, SUPPORTED_LOCALES, score_buttons
from surveys.selectors import api_keys_with_batches, survey_link_of, survey_link_urls
from surveys.services.dispatch import invitation_preview
from surveys.wording import WORDING

GET_POST = require_http_methods(["GET", "POST"])


def _apply_errors(form: Form, exc: ValidationError, prefix_map: dict | None = None) -> None:
    """Put a service's field errors on the form's fields (or above the form when it has no such field)."""
    for field, messages in exc.message_dict.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, f"{field}: {message}" if target is None and field != "__all__" else message)


def _page(request, template: str, context: dict, status: int = 200):
    return render(request, f"console/{template}", {"section": template.split("_")[0], **context}, status=status)


def _submit(request, form: Form, save) -> tuple[bool, object]:
    """A valid POST's cleaned data given to `save` (an audited service write): (True, what it returned), or
    (False, None) when nothing was posted, the form is invalid or the service refused the change (its field
    errors are then on the form)."""
    if request.method != "POST" or not form.is_valid():
        return False, None
    try:
        return True, save(**form.cleaned_data)
    except ValidationError as exc:
        _apply_errors(form, exc)
        return False, None


def _form_page(request, template: str, context: dict, *, saved: bool = False):
    """A form's page: 400 when a POST was not saved, so a refused change never looks like a success."""
    return _page(request, template, context, status=400 if request.method == "POST" and not saved else 200)


@manager_required
def home(request):
    return _page(
        request,
        "home.html",
        {
            "counts": {
                "surveys": Survey.objects.count(),
                "trigger_rules": TriggerRule.objects.count(),
                "routing_rules": RoutingRule.objects.count(),
                "teams": Team.objects.count(),
                "people": User.objects.filter(is_active=True).count(),
                "api_keys": ApiKey.objects.filter(revoked_at__isnull=True).count(),
                "widget_keys": PublishableKey.objects.filter(revoked_at__isnull=True).count(),
            },
            "recent": AuditEntry.objects.all()[:10],
        },
    )


# --- surveys ------------------------------------------------------------------------------------


@manager_required
def survey_list(request):
    surveys = Survey.objects.annotate(n_questions=Count("questions")).order_by("-is_active", "name")
    return _page(request, "surveys_list.html", {"surveys": surveys})


def _survey_forms(request, survey: Survey | None):
    if request.method == "POST":
        return forms.SurveyForm(request.POST), forms.QuestionFormSet(request.POST, prefix="q")
    if survey is None:
        return forms.SurveyForm(), forms.QuestionFormSet(prefix="q")
    initial = [forms.QuestionForm.initial_for(q) for q in survey.questions.order_by("position", "pk")]
    return forms.SurveyForm(initial=forms.SurveyForm.initial_for(survey)), forms.QuestionFormSet(
        initial=initial, prefix="q"
    )


@manager_required
@GET_POST
def survey_edit(request, survey_id: int | None = None):
    survey = get_object_or_404(Survey, pk=survey_id) if survey_id else None
    form, questions = _survey_forms(request, survey)
    if request.method == "POST" and form.is_valid() and questions.is_valid():
        filled = [index for index, question in enumerate(questions) if not question.is_blank()]
        positions = {index: position for position, index in enumerate(filled)}
        items = [questions[index].service_fields(positions) for index in filled]
        try:
            if survey is None:
                survey = services.survey_create(actor=request.user, questions=items, **form.service_fields())
            else:
                services.survey_update(actor=request.user, survey=survey, questions=items, **form.service_fields())
        except ValidationError as exc:
            _survey_errors(form, questions, exc)
        else:
            return redirect("console-survey-preview", survey_id=survey.pk)
    status = 400 if request.method == "POST" else 200
    return _page(
        request,
        "surveys_edit.html",
        {"survey": survey, "form": form, "questions": questions, "scales": SCALES},
        status=status,
    )


# The service's names of a question's fields that the form shows as other fields.
QUESTION_ERROR_FIELDS = {
    "text": "text_en",
    "show_if_answer": "show_if_question",
    "show_if_answer.question": "show_if_question",
    "show_if_answer.values": "show_if_values",
}


def _survey_errors(form, questions, exc: ValidationError) -> None:
    """`questions.<n>.<field>` errors go on the n-th filled question's field, the others on the survey form."""
    filled = [question for question in questions if not question.is_blank()]
    for field, messages in exc.message_dict.items():
        parts = field.split(".")
        if parts[0] == "questions" and len(parts) >= 3 and int(parts[1]) < len(filled):
            target, name = filled[int(parts[1])], ".".join(parts[2:])
            name = QUESTION_ERROR_FIELDS.get(name, name)
            for message in messages:
                target.add_error(name if name in target.fields else None, message)
        elif field == "question_text":
            for message in messages:
                form.add_error("question_en", message)
        else:
            for message in messages:
                form.add_error(field if field in form.fields else None, message)


@manager_required
@require_POST
def survey_duplicate(request, survey_id: int):
    copy = services.survey_duplicate(actor=request.user, survey=get_object_or_404(Survey, pk=survey_id))
    return redirect("console-survey-edit", survey_id=copy.pk)


@manager_required
@require_POST
def survey_pause(request, survey_id: int):
    survey = get_object_or_404(Survey, pk=survey_id)
    services.survey_update(actor=request.user, survey=survey, is_active=request.POST.get("active") == "1")
    return redirect("console-surveys")


def _locale(request) -> str:
    locale = request.GET.get("locale", "en")
    return locale if locale in SUPPORTED_LOCALES else "en"


@manager_required
def survey_preview(request, survey_id: int):
    """The email (HTML and text), the SMS (with its encoding and segments) and the page, in one locale."""
    survey = get_object_or_404(Survey, pk=survey_id)
    locale = _locale(request)
    email = invitation_preview(survey=survey, locale=locale, channel=Channel.EMAIL)
    sms = invitation_preview(survey=survey, locale=locale, channel=Channel.SMS)
    encoding, segments = sms_segments(sms["body_text"])
    try:
        whatsapp = {"template": invitation_preview(survey=survey, locale=locale, channel=Channel.WHATSAPP)["template"]}
    except ImproperlyConfigured as exc:  # WhatsApp is not set up: the page says what is missing
        whatsapp = {"problem": str(exc)}
    return _page(
        request,
        "surveys_preview.html",
        {
            "survey": survey,
            "locale": locale,
            "locales": SUPPORTED_LOCALES,
            "email": email,
            "sms": {
                "text": sms["body_text"],
                "encoding": encoding,
                "segments": segments,
                "length": len(sms["body_text"]),
            },
            "whatsapp": whatsapp,
            # What follows the score, in this language: the additional questions and the thank-you.
            "questions": [
                {"text": question.text_in(locale), "choices": [label for _v, label in question.choice_labels(locale)]}
                for question in survey.questions.all()
            ],
            "thank_you": survey.thank_you(locale) or WORDING[locale]["thanks"],
            "sent": request.GET.get("sent") == "1",
        },
    )


@manager_required
def survey_preview_page(request, survey_id: int):
    """The respondent page as a customer would see it (shown in a sandboxed frame: nothing can be submitted)."""
    survey = get_object_or_404(Survey, pk=survey_id)
    locale = _locale(request)
    scale = survey.scale
    context = {
        "words": WORDING[locale],
        "locale": locale,
        "survey": survey,
        "brand": branding_for(survey.pk),
        "question": survey.question(locale),
        "buttons": score_buttons(scale, locale, survey.end_labels(locale)),
        "low_label": survey.end_labels(locale)[0],
        "high_label": survey.end_labels(locale)[1],
        "symbols": bool(scale.symbols),
        "selected": None,
    }
    response = render(request, "surveys/respond.html", context)
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


@manager_required
@require_POST
def survey_send_test(request, survey_id: int):
    survey = get_object_or_404(Survey, pk=survey_id)
    locale = _locale(request)
    services.survey_send_test(user=request.user, survey=survey, locale=locale)
    return redirect(f"{request.path.rsplit('/send-test/', 1)[0]}/preview/?locale={locale}&sent=1")


# --- trigger rules ------------------------------------------------------------------------------


def _conditions_initial(rule: TriggerRule | None) -> list[dict]:
    rows = []
    for condition in (rule.conditions if rule else []) or []:
        value = condition.get("value", "")
        rows.append(
            {
                "property": condition.get("property", ""),
                "op": condition.get("op", "equals"),
                "value": ", ".join(map(str, value)) if isinstance(value, list) else ("" if value is None else value),
            }
        )
    return rows


@manager_required
def trigger_rule_list(request):
    rules = TriggerRule.objects.select_related("survey").order_by("event_type", "pk")
    return _page(request, "triggers_list.html", {"rules": rules})


@manager_required
@GET_POST
def trigger_rule_edit(request, rule_id: int | None = None):
    rule = get_object_or_404(TriggerRule, pk=rule_id) if rule_id else None
    if request.method == "POST":
        form = forms.TriggerRuleForm(request.POST)
        conditions = forms.ConditionFormSet(request.POST, prefix="c")
    else:
        initial = None
        if rule:
            initial = {
                "event_type": rule.event_type,
                "survey": rule.survey_id,
                "channel": rule.channel,
                "delay_minutes": int(rule.delay.total_seconds() // 60),
                "sample_percent": round(rule.sample_rate * 100),
                "expiry_days": rule.expiry.days if rule.expiry else None,
                "is_active": rule.is_active,
            }
        form = forms.TriggerRuleForm(initial=initial)
        conditions = forms.ConditionFormSet(initial=_conditions_initial(rule), prefix="c")
    if request.method == "POST" and form.is_valid() and conditions.is_valid():
        items = [c for c in (row.condition() for row in conditions) if c]
        try:
            services.trigger_rule_save(actor=request.user, rule=rule, **form.service_fields(items))
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return redirect("console-triggers")
    status = 400 if request.method == "POST" else 200
    return _page(request, "triggers_edit.html", {"rule": rule, "form": form, "conditions": conditions}, status=status)


# --- routing rules ------------------------------------------------------------------------------


@manager_required
def routing_rule_list(request):
    rules = RoutingRule.objects.select_related("survey", "team", "fix_check_survey").order_by("position", "pk")
    return _page(request, "routing_list.html", {"rules": rules})


@manager_required
@GET_POST
def routing_rule_edit(request, rule_id: int | None = None):
    rule = get_object_or_404(RoutingRule, pk=rule_id) if rule_id else None
    form = forms.RoutingRuleForm(request.POST or None, instance=rule)

    def save(**data):
        fields = {name: data[name] for name in forms.RoutingRuleForm.Meta.fields}
        services.routing_rule_save(actor=request.user, rule=RoutingRule.objects.filter(pk=rule_id).first(), **fields)

    if _submit(request, form, save)[0]:
        return redirect("console-routing")
    return _form_page(request, "routing_edit.html", {"rule": rule, "form": form})


# --- teams and root causes ----------------------------------------------------------------------


@manager_required
def team_list(request):
    teams = Team.objects.order_by("name").prefetch_related(Prefetch("members", queryset=User.objects.order_by("email")))
    return _page(request, "teams_list.html", {"teams": teams, "root_causes": RootCause.objects.order_by("name")})


@manager_required
@GET_POST
def team_edit(request, team_id: int | None = None):
    team = get_object_or_404(Team, pk=team_id) if team_id else None
    initial = {"holidays_text": "\n".join(team.holidays), "members": team.members.all()} if team else None
    form = forms.TeamForm(request.POST or None, instance=team, initial=initial, slack=selectors.slack_choices())

    def save(*, members, holidays_text, **data):
        holidays = [line.strip() for line in holidays_text.splitlines() if line.strip()]
        team_now = Team.objects.filter(pk=team_id).first()
        services.team_save(actor=request.user, team=team_now, members=list(members), holidays=holidays, **data)

    if _submit(request, form, save)[0]:
        return redirect("console-teams")
    return _form_page(request, "teams_edit.html", {"team": team, "form": form})


@manager_required
@GET_POST
def root_cause_edit(request, root_cause_id: int | None = None):
    root_cause = get_object_or_404(RootCause, pk=root_cause_id) if root_cause_id else None
    form = forms.RootCauseForm(request.POST or None, instance=root_cause)
    saved, _ = _submit(
        request,
        form,
        partial(
            services.root_cause_save, actor=request.user, root_cause=RootCause.objects.filter(pk=root_cause_id).first()
        ),
    )
    if saved:
        return redirect("console-teams")
    return _form_page(request, "teams_root_cause.html", {"root_cause": root_cause, "form": form})


# --- canned replies -----------------------------------------------------------------------------


@manager_required
def canned_reply_list(request):
    replies = CannedReply.objects.select_related("team").order_by("team__name", "locale", "title", "pk")
    return _page(request, "canned_list.html", {"replies": replies})


@manager_required
@GET_POST
def canned_reply_edit(request, canned_id: int | None = None):
    canned = get_object_or_404(CannedReply, pk=canned_id) if canned_id else None
    initial = {name: getattr(canned, name) for name in services.CANNED_REPLY_FIELDS} if canned else None
    form = forms.CannedReplyForm(request.POST or None, initial=initial)
    if _submit(request, form, partial(services.canned_reply_change, actor=request.user, canned=canned))[0]:
        return redirect("console-canned-replies")
    return _form_page(request, "canned_edit.html", {"canned": canned, "form": form})


@manager_required
@require_POST
def canned_reply_delete(request, canned_id: int):
    services.canned_reply_delete(actor=request.user, canned=get_object_or_404(CannedReply, pk=canned_id))
    return redirect("console-canned-replies")


# --- people -------------------------------------------------------------------------------------


@manager_required
@GET_POST
def people(request):
    form = forms.InviteForm(request.POST or None)
    saved, user = _submit(request, form, partial(services.user_invite, actor=request.user))
    if saved:
        return redirect(f"{request.path}?invited={user.pk}")
    invited = (
        User.objects.filter(pk=request.GET.get("invited") or 0).first()
        if request.GET.get("invited", "").isdigit()
        else None
    )
    users = User.objects.select_related("team").order_by("-is_active", "email")
    return _form_page(request, "people_list.html", {"form": form, "users": users, "invited": invited})


@manager_required
@GET_POST
def person_edit(request, user_id: int):
    person = get_object_or_404(User, pk=user_id)
    form = forms.UserForm(
        request.POST or None,
        initial={
            "role": person.role,
            "team": person.team,
            "is_active": person.is_active,
            "is_away": person.is_away,
            "language": person.language,
        },
    )
    if _submit(request, form, partial(services.user_update, actor=request.user, user=person))[0]:
        return redirect("console-people")
    return _form_page(request, "people_edit.html", {"person": person, "form": form})


# --- API keys -----------------------------------------------------------------------------------


@manager_required
@GET_POST
def api_keys(request):
    form = forms.ApiKeyForm(request.POST or None)
    created = None
    saved, made = _submit(request, form, partial(services.console_api_key_create, actor=request.user))
    if saved:
        # Shown on this answer only: it is never stored, so no later page can show it again.
        created = {"api_key": made[0], "raw": made[1]}
        form = forms.ApiKeyForm()
    keys = api_keys_with_batches().select_related("survey").order_by("revoked_at", "-pk")
    status = 400 if request.method == "POST" and created is None else (201 if created else 200)
    response = _page(request, "keys_list.html", {"form": form, "keys": keys, "created": created}, status=status)
    if created:
        response["Cache-Control"] = "no-store"
    return response


@manager_required
@require_POST
def api_key_revoke(request, key_id: int):
    services.console_api_key_revoke(actor=request.user, api_key=get_object_or_404(ApiKey, pk=key_id))
    return redirect("console-api-keys")


# --- web widget -------------------------------------------------------------------------------


@manager_required
@GET_POST
def web_widget(request):
    """Publishable keys of the web widget, each with the snippet to paste; a form to create one."""
    form = forms.PublishableKeyForm(request.POST or None)
    saved, created = _submit(request, form, partial(services.console_publishable_key_create, actor=request.user))
    if saved:
        form = forms.PublishableKeyForm()
    keys = PublishableKey.objects.select_related("survey").order_by("revoked_at", "-pk")
    status = 400 if request.method == "POST" and created is None else (201 if created else 200)
    context = {"form": form, "keys": keys, "created": created, "site_url": settings.SITE_URL}
    return _page(request, "widget_list.html", context, status=status)


@manager_required
@GET_POST
def web_widget_edit(request, key_id: int):
    publishable_key = get_object_or_404(PublishableKey.objects.select_related("survey"), pk=key_id)
    initial = {
        "name": publishable_key.name,
        "survey": publishable_key.survey,
        "allowed_origins": "\n".join(publishable_key.allowed_origins),
        "sample_factor": publishable_key.sample_factor,
        "recurring_period_days": publishable_key.recurring_period_days,
    }
    form = forms.PublishableKeyForm(request.POST or None, initial=initial)
    update = partial(services.console_publishable_key_update, actor=request.user, publishable_key=publishable_key)
    if _submit(request, form, update)[0]:
        return redirect("console-web-widget")
    context = {"form": form, "key": publishable_key, "site_url": settings.SITE_URL}
    return _form_page(request, "widget_edit.html", context)


@manager_required
@require_POST
def web_widget_revoke(request, key_id: int):
    publishable_key = get_object_or_404(PublishableKey, pk=key_id)
    services.console_publishable_key_revoke(actor=request.user, publishable_key=publishable_key)
    return redirect("console-web-widget")


# --- audit trail --------------------------------------------------------------------------------


@manager_required
def audit_trail(request):
    entries = AuditEntry.objects.all()[:200]
    return _page(request, "audit_list.html", {"entries": entries})


# --- branding -----------------------------------------------------------------------------------


@manager_required
@GET_POST
def branding(request, survey_id: int | None = None):
    """The workspace's branding, or one survey's (its filled-in fields win over the workspace's)."""
    survey = get_object_or_404(Survey, pk=survey_id) if survey_id else None
    current = services.branding_get(survey=survey)
    form = forms.BrandingForm(request.POST or None, instance=current)
    saved, _ = _submit(request, form, partial(services.branding_save, actor=request.user, survey=survey))
    return _form_page(
        request,
        "branding_edit.html",
        {"survey": survey, "form": form, "saved": saved, "brand": branding_for(survey.pk if survey else None)},
        saved=saved,
    )


@manager_required
def survey_link(request, survey_id: int):
    """The survey's public link: create it, switch it and kiosk mode on or off, rename it; its QR codes."""
    survey = get_object_or_404(Survey, pk=survey_id)
    link = survey_link_of(survey_id=survey.pk)
    initial = {"slug": link.slug, "is_enabled": link.is_enabled, "kiosk_enabled": link.kiosk_enabled,
               "ask_contact": link.ask_contact} if link else None  # fmt: skip
    form = forms.SurveyLinkForm(request.POST or None, initial=initial)
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            link, _ = services.survey_link_change(actor=request.user, survey=survey, **form.service_fields())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            saved = True
            form = forms.SurveyLinkForm(initial=form.cleaned_data | {"slug": link.slug})
    status = 400 if request.method == "POST" and not saved else 200
    urls = survey_link_urls(link) if link else None
    return _page(request, "surveys_link.html", {"survey": survey, "link": link, "urls": urls, "form": form,
                                                "saved": saved}, status=status)  # fmt: skip


@manager_required
def routing_rules_dry_run(request):
    """Which routing rules an answer would match, and why, and which one decides; nothing is opened or sent."""
    form = forms.RoutingDryRunForm(
        request.GET or None, theme_choices=[(theme.slug, theme.name) for theme in themes_active()]
    )
    result = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            facts = routing_dry_run.routing_answer_facts(
                survey=data["survey"],
                score=data["score"],
                comment=data["comment"],
                contact_properties=data["contact_properties"],
                event_properties=data["event_properties"],
                themes=(data["theme"],) if data["theme"] else (),
                sentiment=data["sentiment"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            result = routing_dry_run.routing_rules_dry_run(facts=facts)
    status = 400 if form.is_bound and result is None else 200
    return _page(request, "routing_dry_run.html", {"form": form, "result": result}, status=status)


@manager_required
def trigger_rules_dry_run(request):
    """Which trigger rules an event would match, and why; nothing is stored or sent."""
    form = forms.DryRunForm(request.GET or None)
    verdicts = None
    if form.is_bound and form.is_valid():
        verdicts = selectors.trigger_rules_dry_run(
            event_type=form.cleaned_data["event_type"], properties=form.cleaned_data["properties"]
        )
    status = 400 if form.is_bound and verdicts is None else 200
    return _page(request, "triggers_dry_run.html", {"form": form, "verdicts": verdicts}, status=status)
