import hashlib
import hmac
import socket
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from feedback.models import FollowUp
from feedback.services.cases import follow_up_add_note
from feedback.services.resolution import follow_up_resolve
from integrations.admin import WebhookSubscriptionAdminForm
from integrations.models import WebhookDelivery, WebhookSubscription
from integrations.tasks import deliver_due_webhooks, deliver_webhook
from integrations.webhooks import (
    follow_up_payload,
    webhook_delivery_replay,
    webhook_subscription_secret_rotate,
    webhooks_emit,
)
from notifications.models import Channel, Suppression
from notifications.services.suppressions import suppression_add
from surveys.delighted_json import response_json
from surveys.models import Response
from surveys.services.responses import response_comment, response_submit
from tests.factories import (
    ContactFactory,
    FollowUpFactory,
    InvitationFactory,
    RootCauseFactory,
    RoutingRuleFactory,
    SurveyFactory,
)
from tests.fakes.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.django_db

SECRET = "whsec-test"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def receiver():
    receiver = WebhookReceiver(SECRET).start()
    yield receiver
    receiver.stop()


def subscribe(url: str, *events: str, **fields) -> WebhookSubscription:
    return WebhookSubscription.objects.create(name="CRM", url=url, secret=SECRET, events=list(events), **fields)


@pytest.fixture
def invitation():
    contact = ContactFactory(email="ada@example.com", name="Ada")
    return InvitationFactory(contact=contact, survey=SurveyFactory(kind="nps"))


# --- what is sent ---------------------------------------------------------------------------------


def test_survey_response_created_is_posted_signed_in_delighted_shape(
    receiver, invitation, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, "survey_response.created")

    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=invitation, score=9)

    [request] = receiver.received
    delivery = WebhookDelivery.objects.get()
    response = Response.objects.get()
    assert request.signature_valid
    assert request.path == "/hooks/closeloop"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == {
        "event_type": "survey_response.created",
        "event_id": delivery.event_id,
        "event_data": {
            **response_json(response, expand=["person"]),
            "language": None,
            "sentiment": None,
            "sentiment_confidence": None,
            "themes": [],
        },
        "event_creator": {"type": "person", "id": str(response.contact_id)},
    }
    assert request.json()["event_data"]["person"]["email"] == "ada@example.com"
    assert (request.json()["event_data"]["score"], request.json()["event_data"]["survey_type"]) == (9, "nps")
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.delivered_at) == (
        "delivered",
        1,
        200,
        NOW,
    )


def test_a_changed_score_is_survey_response_updated(receiver, invitation, django_capture_on_commit_callbacks):
    subscribe(receiver.url, "survey_response.created", "survey_response.updated")

    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=invitation, score=9)
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=invitation, score=4)

    assert [(r.json()["event_type"], r.json()["event_data"]["score"]) for r in receiver.received] == [
        ("survey_response.created", 9),
        ("survey_response.updated", 4),
    ]


def test_a_reason_given_after_the_score_is_survey_response_updated(
    receiver, invitation, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, "survey_response.created", "survey_response.updated")

    with django_capture_on_commit_callbacks(execute=True):
        response = response_submit(invitation=invitation, score=9)
    with django_capture_on_commit_callbacks(execute=True):
        response_comment(response=response, comment="Quick delivery")

    assert [(r.json()["event_type"], r.json()["event_data"]["comment"]) for r in receiver.received] == [
        ("survey_response.created", None),
        ("survey_response.updated", "Quick delivery"),
    ]


def test_a_comment_once_read_is_survey_response_updated_with_what_was_read(
    receiver, invitation, django_capture_on_commit_callbacks
):
    from insights.analysis import comments_analyse_pending

    subscribe(receiver.url, "survey_response.updated")
    with django_capture_on_commit_callbacks(execute=True):
        response = response_submit(invitation=invitation, score=9)
    with django_capture_on_commit_callbacks(execute=True):
        response_comment(response=response, comment="Colis perdu, service client injoignable")
    with django_capture_on_commit_callbacks(execute=True):
        comments_analyse_pending()
    with django_capture_on_commit_callbacks(execute=True):
        comments_analyse_pending()  # nothing left to read: nothing more is sent

    last = receiver.received[-1].json()["event_data"]
    assert len(receiver.received) == 2
    assert (last["language"], last["sentiment"], last["themes"]) == ("fr", "negative", ["delivery", "customer_service"])
    assert 0.5 < last["sentiment_confidence"] <= 0.99


def test_only_subscribed_events_reach_active_subscriptions(receiver, invitation, django_capture_on_commit_callbacks):
    subscribe(receiver.url, "unsubscribe.created")
    subscribe(receiver.url, "survey_response.created", is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=invitation, score=9)

    assert receiver.received == []
    assert not WebhookDelivery.objects.exists()


def test_unsubscribe_created_names_the_person(receiver, invitation, django_capture_on_commit_callbacks):
    subscribe(receiver.url, "unsubscribe.created")

    with django_capture_on_commit_callbacks(execute=True):
        suppression_add(channel=Channel.EMAIL, recipient="ada@example.com", reason="unsubscribe", source="link")

    [request] = receiver.received
    assert request.signature_valid
    assert request.json() == {
        "event_type": "unsubscribe.created",
        "event_id": WebhookDelivery.objects.get().event_id,
        "event_data": {
            "person_id": str(invitation.contact_id),
            "email": "ada@example.com",
            "name": "Ada",
            "unsubscribed_at": int(NOW.timestamp()),
        },
        "event_creator": {"type": "person", "id": str(invitation.contact_id)},
    }


def test_an_sms_stop_is_an_unsubscribe_but_a_bounce_is_not(receiver, django_capture_on_commit_callbacks):
    ContactFactory(email="bo@example.com", name="Bo", phone="+33612345678")
    subscribe(receiver.url, "unsubscribe.created")

    with django_capture_on_commit_callbacks(execute=True):
        suppression_add(channel=Channel.EMAIL, recipient="bo@example.com", reason=Suppression.Reason.BOUNCE, source="x")
        suppression_add(channel=Channel.SMS, recipient="+33612345678", reason=Suppression.Reason.STOP, source="twilio")

    [request] = receiver.received
    assert request.json()["event_data"] | {"person_id": None} == {
        "person_id": None,
        "email": "bo@example.com",
        "name": "Bo",
        "unsubscribed_at": int(NOW.timestamp()),
        "phone_number": "+33612345678",
    }


def test_follow_up_created_updated_and_resolved(receiver, team, agent, invitation, django_capture_on_commit_callbacks):
    subscribe(receiver.url, "follow_up.created", "follow_up.updated", "follow_up.resolved")
    RoutingRuleFactory(team=team, assignment="queue")

    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=invitation, score=2)
    follow_up = FollowUp.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        follow_up_add_note(follow_up=follow_up, author=agent, body="Calling them")
    with django_capture_on_commit_callbacks(execute=True):
        follow_up_resolve(follow_up=follow_up, author=agent, root_cause=RootCauseFactory(), outcome="recovered")

    assert [r.json()["event_type"] for r in receiver.received] == [
        "follow_up.created",
        "follow_up.updated",
        "follow_up.resolved",
    ]
    assert all(r.signature_valid for r in receiver.received)
    follow_up.refresh_from_db()
    assert receiver.received[-1].json()["event_data"] == follow_up_payload(follow_up)
    assert receiver.received[-1].json()["event_data"]["status"] == "resolved"


def test_a_change_rolled_back_sends_nothing(receiver, team, django_capture_on_commit_callbacks):
    subscribe(receiver.url, "follow_up.updated")
    follow_up = FollowUpFactory(team=team)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            webhooks_emit("follow_up.updated", follow_up)
            raise RuntimeError("the change failed")

    assert receiver.received == []
    assert not WebhookDelivery.objects.exists()


# --- retries, lost tasks, duplicates --------------------------------------------------------------


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """The beat job, with the sends it hands over after its commit."""

    def run() -> dict[str, int]:
        with django_capture_on_commit_callbacks(execute=True):
            return deliver_due_webhooks()

    return run


def emit_without_sending(url: str, team) -> WebhookDelivery:
    """A delivery whose task was never handed to a worker (the on-commit hook is not run)."""
    subscribe(url, "follow_up.updated")
    [delivery] = webhooks_emit("follow_up.updated", FollowUpFactory(team=team))
    return delivery


def test_a_failed_delivery_is_retried_with_backoff_until_delivered(receiver, team, frozen, sweep):
    delivery = emit_without_sending(receiver.url, team)
    receiver.statuses = [500, 503]

    deliver_webhook(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.error) == (
        "pending",
        1,
        500,
        "HTTP 500",
    )
    assert delivery.next_attempt_at == NOW + timedelta(seconds=30)

    frozen.shift(timedelta(seconds=29))
    sweep()
    assert len(receiver.received) == 1  # not due yet

    frozen.shift(timedelta(seconds=1))
    sweep()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        "pending",
        2,
        NOW + timedelta(seconds=30 + 60),
    )

    frozen.shift(timedelta(seconds=60))
    sweep()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.error) == ("delivered", 3, 200, "")
    assert [r.json()["event_id"] for r in receiver.received] == [delivery.event_id] * 3


def test_a_delivery_that_keeps_failing_gives_up_after_24_hours(receiver, team, frozen, sweep):
    delivery = emit_without_sending(receiver.url, team)
    receiver.statuses = [500] * 50

    deliver_webhook(delivery.pk)
    delivery.refresh_from_db()
    while delivery.status == WebhookDelivery.Status.PENDING:
        frozen.move_to(delivery.next_attempt_at)
        sweep()
        delivery.refresh_from_db()

    assert delivery.status == "failed"
    assert delivery.attempts == 12
    assert delivery.last_attempt_at - NOW == timedelta(seconds=30 * (2**11 - 1))  # about 17 h
    assert delivery.last_attempt_at - NOW < timedelta(hours=24)
    assert len(receiver.received) == 12


def test_an_unreachable_receiver_is_retried(team):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    delivery = emit_without_sending(f"http://127.0.0.1:{port}/hook", team)

    deliver_webhook(delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, None)
    assert delivery.error.startswith("ConnectionError: ")


def test_a_task_run_twice_posts_once(receiver, team):
    delivery = emit_without_sending(receiver.url, team)

    deliver_webhook(delivery.pk)
    deliver_webhook(delivery.pk)

    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


def test_a_lost_task_is_handed_over_again_by_the_sweep(receiver, team, frozen, sweep):
    delivery = emit_without_sending(receiver.url, team)

    assert sweep() == {"requeued": 0, "enqueued": 0}  # its task may still be on its way
    frozen.shift(timedelta(minutes=5, seconds=1))
    assert sweep() == {"requeued": 0, "enqueued": 1}

    delivery.refresh_from_db()
    assert (delivery.status, len(receiver.received)) == ("delivered", 1)


def test_the_lease_before_a_lost_task_is_handed_over_is_a_setting(receiver, team, frozen, sweep, settings):
    settings.WEBHOOK_LEASE_SECONDS = 60
    delivery = emit_without_sending(receiver.url, team)

    frozen.shift(timedelta(seconds=60))
    assert sweep() == {"requeued": 0, "enqueued": 0}
    frozen.shift(timedelta(seconds=1))
    assert sweep() == {"requeued": 0, "enqueued": 1}

    delivery.refresh_from_db()
    assert (delivery.status, len(receiver.received)) == ("delivered", 1)


def test_with_the_broker_down_at_commit_the_change_stands_and_the_next_sweep_hands_the_delivery_over(
    receiver, team, sweep, broker_refusing, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, "follow_up.updated")
    follow_up = FollowUpFactory(team=team)
    after = []

    with broker_refusing(deliver_webhook):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            [delivery] = webhooks_emit("follow_up.updated", follow_up)
            # A hook of the same commit after the webhooks' (the case's rollup count, the team's Slack notice).
            transaction.on_commit(lambda: after.append("ran"))

    # Nothing raised, the later hook ran, and the delivery is marked not handed over: no lease to wait out.
    assert after == ["ran"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.enqueued_at) == ("pending", None)
    assert receiver.received == []
    assert sweep() == {"requeued": 0, "enqueued": 1}
    delivery.refresh_from_db()
    assert (delivery.status, len(receiver.received)) == ("delivered", 1)


def test_an_attempt_whose_worker_died_is_tried_again(receiver, team, frozen, sweep):
    delivery = emit_without_sending(receiver.url, team)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="sending", attempts=1, last_attempt_at=NOW)

    frozen.shift(timedelta(minutes=4))
    assert sweep() == {"requeued": 0, "enqueued": 0}
    frozen.shift(timedelta(minutes=1, seconds=1))
    assert sweep() == {"requeued": 1, "enqueued": 1}

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.received)) == ("delivered", 2, 1)


# --- rotating the secret --------------------------------------------------------------------------


def _signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_after_a_rotation_deliveries_carry_both_signatures_until_the_grace_ends(receiver, team, frozen, settings):
    settings.WEBHOOK_SECRET_ROTATION_HOURS = 24
    subscription = subscribe(receiver.url, "follow_up.updated")

    rotated = webhook_subscription_secret_rotate(subscription=subscription)

    assert (rotated.previous_secret, rotated.previous_secret_expires_at) == (SECRET, NOW + timedelta(hours=24))
    assert len(rotated.secret) == 64 and rotated.secret != SECRET
    [during] = webhooks_emit("follow_up.updated", FollowUpFactory(team=team))
    frozen.shift(timedelta(hours=24) - timedelta(seconds=1))
    deliver_webhook(during.pk)
    frozen.shift(timedelta(seconds=1))
    [after] = webhooks_emit("follow_up.updated", FollowUpFactory(team=team))
    deliver_webhook(after.pk)

    first, second = receiver.received
    # The new secret's signature first, then the old one's: a receiver still on the old secret is not cut off.
    assert first.headers["X-Delighted-Webhook-Signature"] == ",".join(
        [_signature(rotated.secret, first.body), _signature(SECRET, first.body)]
    )
    assert first.signature_valid
    # Once the grace is over only the new secret signs, in Delighted's single-signature form.
    assert second.headers["X-Delighted-Webhook-Signature"] == _signature(rotated.secret, second.body)
    assert not second.signature_valid  # the receiver still holds the old secret
    receiver.secret = rotated.secret
    webhook_delivery_replay(delivery=WebhookDelivery.objects.get(pk=after.pk))
    deliver_webhook(WebhookDelivery.objects.latest("pk").pk)
    assert receiver.received[-1].signature_valid


def test_rotating_again_within_the_grace_keeps_only_the_secret_it_replaces(receiver, team, frozen):
    subscription = subscribe(receiver.url, "follow_up.updated")
    first = webhook_subscription_secret_rotate(subscription=subscription)
    frozen.shift(timedelta(hours=1))

    second = webhook_subscription_secret_rotate(subscription=first)
    [delivery] = webhooks_emit("follow_up.updated", FollowUpFactory(team=team))
    deliver_webhook(delivery.pk)

    [request] = receiver.received
    assert (second.previous_secret, second.previous_secret_expires_at) == (
        first.secret,
        NOW + timedelta(hours=25),
    )
    assert request.headers["X-Delighted-Webhook-Signature"] == ",".join(
        [_signature(second.secret, request.body), _signature(first.secret, request.body)]
    )
    assert not request.signature_valid  # the original secret signs no more


def test_a_delivery_to_a_deactivated_subscription_fails_without_posting(receiver, team):
    delivery = emit_without_sending(receiver.url, team)
    WebhookSubscription.objects.update(is_active=False)

    deliver_webhook(delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error, receiver.received) == ("failed", "The subscription is inactive.", [])


# --- replay ---------------------------------------------------------------------------------------


def test_replay_from_the_admin_sends_the_same_event_again(
    receiver, team, manager, client, django_capture_on_commit_callbacks
):
    delivery = emit_without_sending(receiver.url, team)
    deliver_webhook(delivery.pk)
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/integrations/webhookdelivery/", {"action": "replay", "_selected_action": [delivery.pk]}
        )

    assert response.status_code == 302
    replay = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert (replay.replay_of, replay.event_id, replay.payload, replay.status) == (
        delivery,
        delivery.event_id,
        delivery.payload,
        "delivered",
    )
    assert [r.body for r in receiver.received] == [receiver.received[0].body] * 2


def test_the_delivery_log_is_read_only_and_listed_for_managers(receiver, team, manager, client):
    delivery = emit_without_sending(receiver.url, team)
    client.force_login(manager)

    listing = client.get("/admin/integrations/webhookdelivery/")
    detail = client.get(f"/admin/integrations/webhookdelivery/{delivery.pk}/change/")

    assert listing.status_code == 200
    assert b"follow_up.updated" in listing.content
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content


def test_the_admin_pages_of_webhooks_keep_their_old_feedback_addresses_as_redirects(receiver, team, manager, client):
    delivery = emit_without_sending(receiver.url, team)
    client.force_login(manager)

    listing = client.get("/admin/feedback/webhookdelivery/?status=pending")
    detail = client.get(f"/admin/feedback/webhookdelivery/{delivery.pk}/change/")
    subscriptions = client.get("/admin/feedback/webhooksubscription/")

    assert (listing.status_code, listing["Location"]) == (301, "/admin/integrations/webhookdelivery/?status=pending")
    assert (detail.status_code, detail["Location"]) == (
        301,
        f"/admin/integrations/webhookdelivery/{delivery.pk}/change/",
    )
    assert (subscriptions.status_code, subscriptions["Location"]) == (301, "/admin/integrations/webhooksubscription/")


# --- where we may post ----------------------------------------------------------------------------


def subscription_form(url: str) -> WebhookSubscriptionAdminForm:
    return WebhookSubscriptionAdminForm(
        data={"name": "CRM", "url": url, "secret": SECRET, "events": ["follow_up.created"], "is_active": "on"}
    )


@pytest.mark.parametrize(
    ("url", "host", "address"),
    [
        ("http://127.0.0.1:8080/hook", "127.0.0.1", "127.0.0.1"),
        ("http://localhost/hook", "localhost", "127.0.0.1"),
        ("https://10.1.2.3/hook", "10.1.2.3", "10.1.2.3"),
        ("http://192.168.0.10/hook", "192.168.0.10", "192.168.0.10"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254", "169.254.169.254"),
        ("http://[::1]/hook", "::1", "::1"),
        ("http://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1", "127.0.0.1"),
    ],
)
def test_a_subscription_to_a_private_address_is_refused(settings, url, host, address):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False

    form = subscription_form(url)

    assert not form.is_valid()
    assert form.errors["url"] == [f"{host} resolves to {address}, a private, loopback or link-local address."]


def test_a_subscription_needs_an_http_url_and_known_events(settings):
    form = WebhookSubscriptionAdminForm(
        data={"name": "CRM", "url": "ftp://files.example/hook", "secret": SECRET, "events": ["order.paid"]}
    )

    assert not form.is_valid()
    assert form.errors["url"] == ["Use an http:// or https:// URL with a host name."]
    assert form.errors["events"] == ["Select a valid choice. order.paid is not one of the available choices."]


def test_a_subscription_to_a_local_receiver_is_saved_when_allowed(receiver):
    form = subscription_form(receiver.url)

    assert form.is_valid(), form.errors
    subscription = form.save()
    assert (subscription.url, subscription.events) == (receiver.url, ["follow_up.created"])


def test_a_new_subscription_form_offers_a_random_secret():
    first, second = WebhookSubscriptionAdminForm(), WebhookSubscriptionAdminForm()

    assert len(first.initial["secret"]) == 64
    assert first.initial["secret"] != second.initial["secret"]


def fake_dns(monkeypatch, answers: dict[str, list[str]]) -> None:
    """`answers[name]` is what each successive lookup of `name` returns; addresses resolve as themselves."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            address = answers[host].pop(0)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_dns_rebinding_to_a_private_address_is_refused_at_delivery(settings, monkeypatch, receiver, team):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    fake_dns(monkeypatch, {"hooks.example.test": ["93.184.216.34", "127.0.0.1"]})
    form = subscription_form(f"http://hooks.example.test:{receiver.port}/hook")
    assert form.is_valid(), form.errors
    form.save()
    [delivery] = webhooks_emit("follow_up.created", FollowUpFactory(team=team))

    deliver_webhook(delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error) == (
        "failed",
        "hooks.example.test resolves to 127.0.0.1, a private, loopback or link-local address.",
    )
    assert receiver.received == []


def test_delivery_connects_to_the_address_it_checked(monkeypatch, receiver, team):
    # One answer only: a second lookup (as a rebinding attacker would want) would fail the test.
    fake_dns(monkeypatch, {"hooks.example.test": ["127.0.0.1"]})
    delivery = emit_without_sending(f"http://hooks.example.test:{receiver.port}/hook", team)

    deliver_webhook(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert receiver.received[0].headers["Host"] == f"hooks.example.test:{receiver.port}"


def test_delivery_does_not_follow_redirects(receiver, team):
    receiver.statuses = [302]
    delivery = emit_without_sending(receiver.url, team)

    deliver_webhook(delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code, len(receiver.received)) == ("pending", 302, 1)


def test_the_admin_change_form_never_shows_the_secret_and_blank_keeps_it(client, settings):
    from tests.factories import ManagerFactory

    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    subscription = WebhookSubscription.objects.create(
        name="CRM", url="http://127.0.0.1:9/hook", secret=SECRET, events=["follow_up.created"]
    )
    client.force_login(ManagerFactory())

    page = client.get(f"/admin/integrations/webhooksubscription/{subscription.pk}/change/")
    form = WebhookSubscriptionAdminForm(
        instance=subscription,
        data={"name": "CRM", "url": subscription.url, "secret": "", "events": ["follow_up.created"], "is_active": "on"},
    )

    assert page.status_code == 200
    assert SECRET not in page.content.decode()
    assert form.is_valid(), form.errors
    assert form.save().secret == SECRET
