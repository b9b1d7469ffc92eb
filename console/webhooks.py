"""The console's webhook pages at `/settings/webhooks/`: subscribe a URL to events (its signing secret shown on
the answer to the creation only), change or delete it, rotate its secret (the new one shown on that answer
only), read its delivery log and replay a delivery. Thin views
over `integrations.webhooks` through audited `console.services`; managers only, like every console page."""

from functools import partial

from django.conf import settings
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from console import forms, services
from console.views import GET_POST, _form_page, _page, _submit
from feedback.decorators import manager_required
from integrations.models import WebhookDelivery, WebhookSubscription
from integrations.webhooks import webhook_delivery_replay, webhook_subscription_secret_rotate

LOG_ROWS = 50


@manager_required
def webhook_list(request):
    return _page(request, "webhooks_list.html", {"subscriptions": WebhookSubscription.objects.order_by("name", "pk")})


def _detail(
    request, subscription: WebhookSubscription, *, new_secret: str = "", rotated: bool = False, status: int = 200
):
    context = {
        "subscription": subscription,
        "deliveries": subscription.deliveries.order_by("-pk")[:LOG_ROWS],
        "new_secret": new_secret,
        "rotated": rotated,
        "previous_secret_signs": len(subscription.signing_secrets(timezone.now())) > 1,
        "rotation_hours": settings.WEBHOOK_SECRET_ROTATION_HOURS,
        "replayed": request.GET.get("replayed", ""),
    }
    response = _page(request, "webhooks_detail.html", context, status=status)
    if new_secret:
        response["Cache-Control"] = "no-store"  # the secret is on this answer only: no cache keeps it
    return response


@manager_required
@GET_POST
def webhook_new(request):
    form = forms.WebhookSubscriptionForm(request.POST or None)
    saved, subscription = _submit(request, form, partial(services.webhook_subscription_change, actor=request.user))
    if saved:
        return _detail(request, subscription, new_secret=subscription.secret, status=201)
    return _form_page(request, "webhooks_edit.html", {"form": form, "subscription": None})


@manager_required
def webhook_detail(request, subscription_id: int):
    return _detail(request, get_object_or_404(WebhookSubscription, pk=subscription_id))


@manager_required
@GET_POST
def webhook_edit(request, subscription_id: int):
    subscription = get_object_or_404(WebhookSubscription, pk=subscription_id)
    initial = {name: getattr(subscription, name) for name in services.WEBHOOK_FIELDS}
    form = forms.WebhookSubscriptionForm(request.POST or None, initial=initial)
    change = partial(services.webhook_subscription_change, actor=request.user, subscription=subscription)
    if _submit(request, form, change)[0]:
        return redirect("console-webhook", subscription_id=subscription.pk)
    if request.method == "POST":
        subscription.refresh_from_db()  # a refused change may have been set on it before it was refused
    return _form_page(request, "webhooks_edit.html", {"form": form, "subscription": subscription})


@manager_required
@require_POST
def webhook_delete(request, subscription_id: int):
    subscription = get_object_or_404(WebhookSubscription, pk=subscription_id)
    services.webhook_subscription_delete(actor=request.user, subscription=subscription)
    return redirect("console-webhooks")


@manager_required
@require_POST
def webhook_rotate_secret(request, subscription_id: int):
    subscription = get_object_or_404(WebhookSubscription, pk=subscription_id)
    subscription = webhook_subscription_secret_rotate(subscription=subscription, actor=request.user)
    return _detail(request, subscription, new_secret=subscription.secret, rotated=True)


@manager_required
@require_POST
def webhook_replay(request, subscription_id: int, delivery_id: int):
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_id, subscription_id=subscription_id)
    with transaction.atomic():
        replay = webhook_delivery_replay(delivery=delivery)
    return redirect(f"{reverse('console-webhook', args=[subscription_id])}?replayed={replay.pk}#log")
