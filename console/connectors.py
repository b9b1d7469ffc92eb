"""The console's connector pages at `/settings/connectors/`: create one and get its address and setup steps,
change it, send a test delivery, read its delivery log. Thin views over `console.services` (audited writes)
and `integrations.connectors`, as the API; managers only, like every console page."""

from functools import partial

from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from console import forms, services
from console.views import GET_POST, _form_page, _page, _submit
from feedback.decorators import manager_required
from integrations.connector_mapping import ZENDESK_BODY
from integrations.connectors import connector_setup_steps, connector_test_delivery, connector_url
from integrations.models import Connector
from integrations.zendesk import zendesk_credentials_check, zendesk_notes_retry_failed, zendesk_notes_summary

LOG_ROWS = 50


@manager_required
def connector_list(request):
    connectors = Connector.objects.order_by("name", "pk")
    rows = [{"connector": connector, "url": connector_url(connector)} for connector in connectors]
    return _page(request, "connectors_list.html", {"rows": rows})


def _detail(request, connector: Connector, *, created_secret: str = "", check=None, status: int = 200):
    context = {
        "connector": connector,
        "url": connector_url(connector),
        "steps": connector_setup_steps(connector),
        "zendesk_body": ZENDESK_BODY if connector.kind == Connector.Kind.ZENDESK else "",
        "deliveries": connector.deliveries.order_by("-pk")[:LOG_ROWS],
        "created_secret": created_secret,
        "tested": request.GET.get("tested") == "1",
        "retried": request.GET.get("retried", ""),
        "notes": zendesk_notes_summary(connector) if connector.kind == Connector.Kind.ZENDESK else None,
        "check": check,
    }
    response = _page(request, "connectors_detail.html", context, status=status)
    if created_secret:
        response["Cache-Control"] = "no-store"
    return response


@manager_required
@GET_POST
def connector_new(request):
    form = forms.ConnectorForm(request.POST or None)
    saved, connector = _submit(request, form, partial(services.connector_save, actor=request.user))
    if saved:
        # A secret Closeloop made (generic connectors) is shown on this answer only.
        given = form.cleaned_data["secret"]
        return _detail(request, connector, created_secret="" if given else connector.secret, status=201)
    return _form_page(request, "connectors_edit.html", {"form": form, "connector": None})


@manager_required
def connector_detail(request, connector_id: int):
    return _detail(request, get_object_or_404(Connector, pk=connector_id))


@manager_required
@GET_POST
def connector_edit(request, connector_id: int):
    connector = get_object_or_404(Connector, pk=connector_id)
    if request.method == "POST":
        form = forms.ConnectorForm(request.POST, connector=connector)
    else:
        form = forms.ConnectorForm(initial=forms.ConnectorForm.initial_for(connector), connector=connector)
    if _submit(request, form, partial(services.connector_save, actor=request.user, connector=connector))[0]:
        return redirect("console-connector", connector_id=connector.pk)
    if request.method == "POST":
        connector.refresh_from_db()  # a refused change may have been set on it before it was refused
    return _form_page(request, "connectors_edit.html", {"form": form, "connector": connector})


@manager_required
@require_POST
def connector_test(request, connector_id: int):
    connector_test_delivery(connector=get_object_or_404(Connector, pk=connector_id))
    return redirect(f"{reverse('console-connector', args=[connector_id])}?tested=1#log")


@manager_required
@require_POST
def connector_check_zendesk(request, connector_id: int):
    """Try the Zendesk token now and say so on the connector's page (nothing is stored)."""
    connector = get_object_or_404(Connector, pk=connector_id)
    ok, message = zendesk_credentials_check(connector=connector)
    return _detail(request, connector, check={"ok": ok, "message": message})


@manager_required
@require_POST
def connector_retry_notes(request, connector_id: int):
    retried = zendesk_notes_retry_failed(connector=get_object_or_404(Connector, pk=connector_id))
    return redirect(f"{reverse('console-connector', args=[connector_id])}?retried={retried}#notes")


@manager_required
@require_POST
def connector_remove(request, connector_id: int):
    services.connector_delete(actor=request.user, connector=get_object_or_404(Connector, pk=connector_id))
    return redirect("console-connectors")
