"""A person's own account page, `/account/`: the language of their pages and emails."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from feedback.forms import AccountForm
from feedback.services.users import user_language_set


@login_required
def account(request):
    if request.method != "POST":
        form = AccountForm(initial={"language": request.user.language})
        return render(request, "feedback/account.html", {"form": form})
    form = AccountForm(request.POST)
    if not form.is_valid():
        return render(request, "feedback/account.html", {"form": form}, status=400)
    user = user_language_set(user=request.user, language=form.cleaned_data["language"])
    # Said in the language just chosen (or, with none, the browser's), as the next page will be.
    with translation.override(user.language or translation.get_language_from_request(request)):
        messages.success(request, _("Saved. Your pages and emails now use this language."))
    return redirect("account")
