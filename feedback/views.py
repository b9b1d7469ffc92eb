"""The agent inbox and the case page: parse, call one service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from feedback.forms import (
    BulkForm,
    InboxForm,
    MoveForm,
    NoteForm,
    ReassignForm,
    ReplyForm,
    ResolveForm,
    SnoozeForm,
    StatusForm,
)
from feedback.models import FollowUp
from feedback.selectors import (
    INBOX_FILTERS,
    INBOX_VIEW_LABELS,
    INBOX_VIEWS,
    contact_time_zone,
    follow_up_assignable_agents,
    follow_up_bulk_agents,
    follow_up_canned_replies,
    follow_up_customer_history,
    follow_up_default_view,
    follow_up_fix_checks,
    follow_up_get,
    follow_up_list,
    follow_up_thread,
    follow_up_time_zone,
    follow_up_view_counts,
    follow_up_visible_to,
)
from feedback.services.cases import follow_up_add_note, follow_up_assign, follow_up_move, follow_up_set_status
from feedback.services.conversation import (
    canned_reply_render,
    follow_up_reply,
    follow_up_reply_channels,
    follow_up_snooze,
    follow_ups_bulk_change,
)
from feedback.services.resolution import follow_up_reopen, follow_up_resolve

PAGE_SIZE = 50


def _visible_follow_up(request, follow_up_id: int) -> FollowUp:
    # A case the user may not see is indistinguishable from one that does not exist.
    follow_up = follow_up_get(user=request.user, follow_up_id=follow_up_id)
    if follow_up is None:
        raise Http404("No such follow-up.")
    return follow_up


@login_required
@require_GET
def follow_up_inbox(request):
    form = InboxForm(request.GET)
    now = timezone.now()
    user = request.user
    valid = form.is_valid()
    current_view = (form.cleaned_data.get("view") if valid else "") or follow_up_default_view(user)
    counts = follow_up_view_counts(user=user, now=now)
    views = [
        {"key": key, "label": INBOX_VIEW_LABELS[key], "count": counts[key], "current": key == current_view}
        for key in INBOX_VIEWS
        if key in counts and (key != "snoozed" or counts[key] or key == current_view)
    ]
    context = {
        "form": form,
        "page": None,
        "views": views,
        "current_view": current_view,
        "current_label": INBOX_VIEW_LABELS[current_view],
        "now": now,
        "time_zone": follow_up_time_zone(user),
        # Open once the agent has used the filters (bookmarked links included), or to show an error.
        "filters_open": not valid or any(key in request.GET for key in INBOX_FILTERS if key != "q"),
    }
    if not valid:
        return render(request, "feedback/inbox.html", context, status=400)
    filters = form.filters()
    follow_ups = follow_up_list(
        user=user, view=current_view, filters=filters, sort=form.cleaned_data["sort"] or "due", now=now
    )
    page = Paginator(follow_ups, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context.update(
        page=page,
        query=query.urlencode(),
        filtered=any(value not in (None, "") for value in filters.values()),
        agents=follow_up_bulk_agents(user=user),
    )
    return render(request, "feedback/inbox.html", context)


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@login_required
@require_POST
def follow_up_bulk(request):
    back = _safe_next(request, reverse("follow-up-inbox"))
    form = BulkForm(request.POST, agents=follow_up_bulk_agents(user=request.user))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    visible = list(follow_up_visible_to(request.user).filter(pk__in=data["ids"]).select_related("team", "assignee"))
    changed, refused = follow_ups_bulk_change(
        actor=request.user, follow_ups=visible, action=data["action"], assignee=data.get("assignee"),
        status=data.get("status") or "",
    )  # fmt: skip
    missing = len(data["ids"]) - len(visible)
    messages.success(
        request, ngettext("%(count)s case changed.", "%(count)s cases changed.", changed) % {"count": changed}
    )
    for reason in refused:
        messages.error(request, reason)
    if missing:
        messages.error(
            request, ngettext("%(count)s case not found.", "%(count)s cases not found.", missing) % {"count": missing}
        )
    return redirect(back)


def _detail(
    request,
    follow_up: FollowUp,
    note_form=None,
    resolve_form=None,
    reply_form=None,
    reassign_form=None,
    move_form=None,
    snooze_form=None,
    action_errors=(),
    status=200,
):
    past_answers, events = follow_up_customer_history(follow_up=follow_up, user=request.user)
    channels = follow_up_reply_channels(follow_up)
    canned = follow_up_canned_replies(follow_up=follow_up)
    canned_rendered = [(reply, canned_reply_render(canned=reply, follow_up=follow_up)) for reply in canned]
    # The channel the customer answered on, unless it cannot be used now (opted out, WhatsApp's session closed).
    usable = [item["channel"] for item in channels if not item["problem"]]
    initial_reply = {"channel": usable[0] if usable else channels[0]["channel"]}
    chosen = request.GET.get("canned", "")
    for reply, text in canned_rendered:
        if chosen == str(reply.pk):
            initial_reply["body"] = text
    contact = follow_up.response.contact
    time_zone = follow_up_time_zone(request.user)
    context = {
        "follow_up": follow_up,
        "thread": follow_up_thread(follow_up=follow_up, reader_zone=time_zone),
        "past_answers": past_answers,
        "events": events,
        "fix_checks": follow_up_fix_checks(follow_up=follow_up),
        "note_form": note_form or NoteForm(),
        "resolve_form": resolve_form or ResolveForm(),
        "reply_form": reply_form or ReplyForm(initial=initial_reply),
        "reply_channels": channels,
        "canned_replies": canned_rendered,
        "status_form": StatusForm(initial={"status": follow_up.status}),
        "snooze_form": snooze_form or SnoozeForm(),
        "reassign_form": reassign_form
        or ReassignForm(
            agents=follow_up_assignable_agents(follow_up=follow_up), initial={"assignee": follow_up.assignee_id}
        ),
        "move_form": (move_form or MoveForm(follow_up=follow_up)) if request.user.is_manager else None,
        "action_errors": list(action_errors),
        "now": timezone.now(),
        "time_zone": time_zone,
        "contact_zone": contact_time_zone(contact),
    }
    return render(request, "feedback/follow_up_detail.html", context, status=status)


@login_required
@require_GET
def follow_up_detail(request, follow_up_id: int):
    return _detail(request, _visible_follow_up(request, follow_up_id))


@login_required
@require_POST
def follow_up_note(request, follow_up_id: int):
    follow_up = _visible_follow_up(request, follow_up_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _detail(request, follow_up, note_form=form, status=400)
    try:
        follow_up_add_note(follow_up=follow_up, author=request.user, body=form.cleaned_data["body"])
    except ValidationError as exc:
        form.add_error("body", exc.message_dict.get("body"))
        return _detail(request, follow_up, note_form=form, status=400)
    return redirect("follow-up-detail", follow_up_id=follow_up.pk)


@login_required
@require_POST
def follow_up_resolve_view(request, follow_up_id: int):
    follow_up = _visible_follow_up(request, follow_up_id)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        return _detail(request, follow_up, resolve_form=form, status=400)
    try:
        follow_up_resolve(
            follow_up=follow_up,
            author=request.user,
            root_cause=form.cleaned_data["root_cause"],
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        form.add_error(None, exc.messages)
        return _detail(request, follow_up, resolve_form=form, status=400)
    return redirect("follow-up-detail", follow_up_id=follow_up.pk)


def _act(request, follow_up: FollowUp, action):
    """Run one service action; a refused action re-renders the case with the reason and a 400."""
    try:
        action()
    except ValidationError as exc:
        return _detail(request, follow_up, action_errors=exc.messages, status=400)
    return redirect("follow-up-detail", follow_up_id=follow_up.pk)


@login_required
@require_POST
def follow_up_claim(request, follow_up_id: int):
    follow_up = _visible_follow_up(request, follow_up_id)
    return _act(
        request, follow_up, lambda: follow_up_assign(follow_up=follow_up, actor=request.user, assignee=request.user)
    )


@login_required
@require_POST
def follow_up_reassign(request, follow_up_id: int):
    follow_up = _visible_follow_up(request, follow_up_id)
    form = ReassignForm(request.POST, agents=follow_up_assignable_agents(follow_up=follow_up))
    if not form.is_valid():
        return _detail(request, follow_up, reassign_form=form, status=400)
    return _act(
        request,
        follow_up,
        lambda: follow_up_assign(follow_up=follow_up, actor=request.user, assignee=form.cleaned_data["assignee"]),
    )


@login_required
@require_POST
def follow_up_move_view(request, follow_up_id: int):
    follow_up = _visible_follow_up(request, follow_up_id)
    form = MoveForm(request.POST, follow_up=follow_up)
    if not form.is_valid():
        return _detail(request, follow_up, move_form=form, status=400)
    return _act(
        request,
        follow_up,
        lambda: follow_up_move(follow_up=follow_up, actor=request.user, team=form.cleaned_data["team"]),
    )


@login_required
@require_POST
def follow_up_status(request, follow_up_id: int):
    follow_up = _visible_follow_up(request, follow_up_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _detail(request, follow_up, action_errors=form.errors.get("status", []), status=400)
    return _act(
        request,
        follow_up,
        lambda: follow_up_set_status(follow_up=follow_up, actor=request.user, status=form.cleaned_data["status"]),
    )


@login_required
@require_POST
def follow_up_reopen_view(request, follow_up_id: int):
    follow_up = _visible_follow_up(request, follow_up_id)
    return _act(request, follow_up, lambda: follow_up_reopen(follow_up=follow_up, actor=request.user))


@login_required
@require_POST
def follow_up_reply_view(request, follow_up_id: int):
    follow_up = _visible_follow_up(request, follow_up_id)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _detail(request, follow_up, reply_form=form, status=400)
    try:
        follow_up_reply(
            follow_up=follow_up,
            author=request.user,
            body=form.cleaned_data["body"],
            channel=form.cleaned_data["channel"],
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _detail(request, follow_up, reply_form=form, status=400)
    return redirect(reverse("follow-up-detail", args=[follow_up.pk]) + "#thread")


@login_required
@require_POST
def follow_up_snooze_view(request, follow_up_id: int):
    follow_up = _visible_follow_up(request, follow_up_id)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        return _detail(request, follow_up, snooze_form=form, status=400)
    try:
        follow_up_snooze(follow_up=follow_up, actor=request.user, until=form.cleaned_data["until"])
    except ValidationError as exc:
        form.add_error("until", exc.message_dict.get("until"))
        return _detail(request, follow_up, snooze_form=form, status=400)
    return redirect("follow-up-detail", follow_up_id=follow_up.pk)
