"""The agent inbox and the case page: parse, call one service, render."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from feedback.forms import InboxForm, MoveForm, NoteForm, ReassignForm, ReplyForm, ResolveForm, StatusForm
from feedback.models import FollowUp
from feedback.selectors import (
    follow_up_assignable_agents,
    follow_up_customer_history,
    follow_up_fix_checks,
    follow_up_get,
    follow_up_list,
    follow_up_response_notes,
)
from feedback.services.cases import follow_up_add_note, follow_up_assign, follow_up_move, follow_up_set_status
from feedback.services.replies import follow_up_reply, follow_up_reply_channel
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
    if not form.is_valid():
        return render(request, "feedback/inbox.html", {"form": form, "page": None}, status=400)
    data = form.cleaned_data
    follow_ups = follow_up_list(
        user=request.user,
        view=data["view"],
        filters={key: data[key] for key in ("status", "survey", "score", "priority", "due")},
        sort=data["sort"] or "due",
    )
    page = Paginator(follow_ups, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "feedback/inbox.html", {"form": form, "page": page, "query": query.urlencode()})


def _detail(
    request,
    follow_up: FollowUp,
    note_form=None,
    resolve_form=None,
    reply_form=None,
    reassign_form=None,
    move_form=None,
    action_errors=(),
    status=200,
):
    past_answers, events = follow_up_customer_history(follow_up=follow_up, user=request.user)
    context = {
        "follow_up": follow_up,
        "entries": follow_up.entries.select_related("author"),
        "past_answers": past_answers,
        "events": events,
        "fix_checks": follow_up_fix_checks(follow_up=follow_up),
        "response_notes": follow_up_response_notes(follow_up=follow_up),
        "note_form": note_form or NoteForm(),
        "resolve_form": resolve_form or ResolveForm(),
        "reply_form": reply_form or ReplyForm(),
        "status_form": StatusForm(),
        "reassign_form": reassign_form
        or ReassignForm(
            agents=follow_up_assignable_agents(follow_up=follow_up), initial={"assignee": follow_up.assignee_id}
        ),
        "move_form": (move_form or MoveForm(follow_up=follow_up)) if request.user.is_manager else None,
        "reply_channel": follow_up_reply_channel(follow_up)[0],
        "action_errors": list(action_errors),
    }
    return render(request, "feedback/follow_up_detail.html", context, status=status)


@login_required
@require_GET
def follow_up_detail(request, follow_up_id: int):
    return _detail(request, _visible_follow_up(request, follow_up_id))


def _post_to_timeline(request, follow_up_id: int, form_class, form_name: str, service) -> HttpResponse:
    """A note or a reply: the form's `body` handed to `service`; a refusal is shown on the form, as a 400."""
    follow_up = _visible_follow_up(request, follow_up_id)
    form = form_class(request.POST)
    if not form.is_valid():
        return _detail(request, follow_up, **{form_name: form}, status=400)
    try:
        service(follow_up=follow_up, author=request.user, body=form.cleaned_data["body"])
    except ValidationError as exc:
        form.add_error("body", exc.message_dict.get("body"))
        return _detail(request, follow_up, **{form_name: form}, status=400)
    return redirect("follow-up-detail", follow_up_id=follow_up.pk)


@login_required
@require_POST
def follow_up_note(request, follow_up_id: int):
    return _post_to_timeline(request, follow_up_id, NoteForm, "note_form", follow_up_add_note)


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
        return _detail(request, follow_up, status=400)
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
    return _post_to_timeline(request, follow_up_id, ReplyForm, "reply_form", follow_up_reply)
