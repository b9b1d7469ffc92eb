"""The console's privacy pages at `/settings/privacy/`: find a person, download everything stored about them, erase
them after a confirmation (docs/privacy.md). Managers only. Both actions call `surveys.services.privacy`, which
records them in the audit trail; the JSON download is a POST, so that a link preview or a crawler never
exports (and audits) anything."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.forms import ContactSearchForm, ErasureForm
from console.views import GET_POST, _page
from feedback.decorators import manager_required
from feedback.models import FollowUp
from notifications.models import PHONE_CHANNELS, Channel, Message, recipient_normalize
from surveys.models import Contact, Event, Invitation, Response
from surveys.selectors import contacts_matching
from surveys.services.privacy import contact_erase, contact_export


@manager_required
def privacy_search(request):
    form = ContactSearchForm(request.GET or None)
    contacts = contacts_matching(form.cleaned_data["q"]) if form.is_valid() else []
    erased = request.GET.get("erased", "")
    return _page(
        request,
        "privacy_search.html",
        {"form": form, "contacts": contacts, "searched": form.is_bound, "erased": erased if erased.isdigit() else ""},
        status=200 if form.is_valid() or not form.is_bound else 400,
    )


def _summary(contact: Contact) -> list[tuple[str, int]]:
    """How much is stored about the person, per kind, as the page lists it before an export or an erasure."""
    keys = [
        (channel, recipient_normalize(channel=channel, recipient=address))
        for channel, address in [(Channel.EMAIL, contact.email), *[(c, contact.phone) for c in PHONE_CHANNELS]]
        if address
    ]
    sent = Q(pk__in=[])
    for channel, key in keys:
        sent |= Q(channel=channel, recipient_key=key)
    return [
        (_("Events"), Event.objects.filter(contact=contact).count()),
        (_("Survey invitations"), Invitation.objects.filter(contact=contact).count()),
        (_("Answers"), Response.objects.filter(contact=contact).count()),
        (_("Answers with a comment"), Response.objects.filter(contact=contact).exclude(comment="").count()),
        (_("Cases"), FollowUp.objects.filter(response__contact=contact).count()),
        (_("Messages sent to them"), Message.objects.filter(sent).count()),
    ]


@manager_required
def privacy_contact(request, contact_id: int):
    contact = get_object_or_404(Contact, pk=contact_id)
    return _page(request, "privacy_contact.html", {"contact": contact, "summary": _summary(contact)})


@manager_required
@require_POST
def privacy_export(request, contact_id: int):
    contact = get_object_or_404(Contact, pk=contact_id)
    data = contact_export(contact=contact, actor=request.user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
    return response


@manager_required
@GET_POST
def privacy_erase(request, contact_id: int):
    contact = get_object_or_404(Contact, pk=contact_id)
    form = ErasureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = contact_erase(
            contact=contact,
            hard=form.cleaned_data["answers"] == "delete",
            keep_out=form.cleaned_data["suppress"],
            actor=request.user,
        )
        if result.mode == "hard":
            return redirect(f"{reverse('console-privacy')}?erased={contact_id}")
        return redirect("console-privacy-contact", contact_id=contact_id)
    status = 400 if request.method == "POST" else 200
    return _page(
        request,
        "privacy_erase.html",
        {"contact": contact, "summary": _summary(contact), "form": form},
        status=status,
    )
