"""The manager's theme page `/themes/`: the taxonomy with its seeds, the candidates discovery found, and
forms that call `insights.taxonomy` (the same services as `/api/themes/`)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from insights import analysis, taxonomy
from insights.models import Theme, ThemeCandidate


def _manager(request) -> None:
    if not request.user.is_manager:
        raise PermissionDenied(gettext("Only managers change the themes."))


def _seeds(text: str) -> list[str]:
    """One phrase per line (commas also separate)."""
    return [part.strip() for line in text.splitlines() for part in line.split(",") if part.strip()]


class ThemeForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Name"))
    seeds = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label=_("Seeds"),
        help_text=_("One phrase per line; livr* matches livré, livraison…"),
    )


class MergeForm(forms.Form):
    into = forms.ModelChoiceField(queryset=Theme.objects.all(), to_field_name="slug", label=_("Merge into"))


def _page(request, status=200, create_form=None):
    themes = taxonomy.themes_active()
    context = {
        "themes": [(theme, "\n".join(theme.seeds)) for theme in themes],
        "create_form": create_form or ThemeForm(),
        "candidates": ThemeCandidate.objects.filter(status=ThemeCandidate.Status.OPEN),
        "status": analysis.status(),
    }
    return render(request, "insights/themes.html", context, status=status)


@login_required
@require_GET
def themes(request):
    _manager(request)
    return _page(request)


def _apply(request, call, success: str):
    try:
        call()
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            for error in errors:
                messages.error(request, f"{field}: {error}")
        return _page(request, status=400)
    messages.success(request, success)
    return redirect("themes")


@login_required
@require_POST
def theme_create(request):
    _manager(request)
    form = ThemeForm(request.POST)
    if not form.is_valid():
        return _page(request, status=400, create_form=form)
    data = form.cleaned_data
    return _apply(
        request, lambda: taxonomy.theme_create(name=data["name"], seeds=_seeds(data["seeds"])), gettext("Theme added.")
    )


@login_required
@require_POST
def theme_update(request, slug):
    _manager(request)
    theme = get_object_or_404(Theme, slug=slug)
    form = ThemeForm(request.POST)
    if not form.is_valid():
        return _page(request, status=400)
    data = form.cleaned_data
    return _apply(
        request,
        lambda: taxonomy.theme_update(theme=theme, name=data["name"], seeds=_seeds(data["seeds"])),
        gettext("Theme “%(name)s” saved.") % {"name": data["name"]},
    )


@login_required
@require_POST
def theme_merge(request, slug):
    _manager(request)
    theme = get_object_or_404(Theme, slug=slug)
    form = MergeForm(request.POST)
    if not form.is_valid():
        return _page(request, status=400)
    into = form.cleaned_data["into"]
    return _apply(
        request,
        lambda: taxonomy.theme_merge(theme=theme, into=into),
        gettext("Merged into “%(name)s”.") % {"name": into.name},
    )


@login_required
@require_POST
def candidate_promote(request, candidate_id):
    _manager(request)
    candidate = get_object_or_404(ThemeCandidate, pk=candidate_id)
    return _apply(
        request, lambda: taxonomy.candidate_promote(candidate=candidate), gettext("Candidate promoted to a theme.")
    )


@login_required
@require_POST
def candidate_dismiss(request, candidate_id):
    _manager(request)
    candidate = get_object_or_404(ThemeCandidate, pk=candidate_id)
    return _apply(request, lambda: taxonomy.candidate_dismiss(candidate=candidate), gettext("Candidate dismissed."))
