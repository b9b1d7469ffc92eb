"""The answers' outbox: every committed answer gets its case, its rollup count and its webhook exactly once, even
when the broker is down at commit, the task is lost, or a receiver fails half-way."""

import json
import os
import threading
from datetime import timedelta

import pytest
from django.dispatch import receiver
from django.utils import timezone

from feedback.models import FollowUp
from insights.rollups import full_score_rollup_rows, stored_score_rollup_rows
from integrations.models import WebhookDelivery, WebhookSubscription
from surveys.models import Response, ResponseAnnouncement
from surveys.services.announcements import (
    AnnouncementHandOver,
    response_announcement_process,
    response_announcements_sweep,
    response_create_announced,
)
from surveys.services.responses import response_comment, response_submit
from surveys.signals import response_submitted
from tests.factories import InvitationFactory, RoutingRuleFactory, SurveyFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def loop(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    RoutingRuleFactory(team=TeamFactory(name="Care"))
    WebhookSubscription.objects.create(
        name="CRM",
        url="http://127.0.0.1:9/hooks",
        secret="s",
        events=["survey_response.created", "survey_response.updated"],
    )
    return InvitationFactory(survey=SurveyFactory(kind="nps"))


@pytest.fixture
def broker_down(broker_refusing):
    from surveys.tasks import announce_responses

    with broker_refusing(announce_responses):
        yield


def _effects(response) -> tuple[int, int, list[str]]:
    full, stored = full_score_rollup_rows(), stored_score_rollup_rows()
    drift = sum(abs(full.get(key, 0) - stored.get(key, 0)) for key in set(full) | set(stored))
    events = list(WebhookDelivery.objects.order_by("pk").values_list("event_type", flat=True))
    return FollowUp.objects.filter(response=response).count(), drift, events


def test_an_answer_committed_while_the_broker_is_down_gets_its_case_count_and_webhook_from_the_sweep(
    loop, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = response_submit(invitation=loop, score=2)
    # The customer's answer is saved; nothing downstream happened yet, and nothing is lost.
    assert ResponseAnnouncement.objects.filter(response=response).count() == 1
    assert FollowUp.objects.count() == 0
    later = timezone.now() + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=False):
        assert response_announcements_sweep(now=later) == {"announced": 1, "failed": 0, "pending": 0}
    assert _effects(response) == (1, 0, ["survey_response.created"])
    assert ResponseAnnouncement.objects.filter(announced_at=None).count() == 0
    assert ResponseAnnouncement.objects.get(response=response).announced_at is not None


def test_an_announcement_processed_twice_acts_once(loop, broker_down, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = response_submit(invitation=loop, score=1)
    announcement_id = ResponseAnnouncement.objects.get().pk
    assert response_announcement_process(announcement_id=announcement_id) is True
    assert response_announcement_process(announcement_id=announcement_id) is False
    assert response_announcements_sweep(now=timezone.now() + timedelta(minutes=1))["announced"] == 0
    assert _effects(response) == (1, 0, ["survey_response.created"])


def test_a_receiver_failing_half_way_rolls_everything_back_and_the_sweep_retries(
    loop, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = response_submit(invitation=loop, score=0)
    failing = {"left": 1}

    @receiver(response_submitted, dispatch_uid="test-failing-receiver")
    def fail_once(**kwargs):
        if failing["left"]:
            failing["left"] -= 1
            raise RuntimeError("the database went away")

    try:
        first = response_announcements_sweep(now=timezone.now() + timedelta(minutes=1))
        announcement = ResponseAnnouncement.objects.get()
        # The receivers that ran before the failure wrote nothing that survived.
        assert (first["failed"], announcement.attempts) == (1, 1)
        assert "RuntimeError: the database went away" in announcement.last_error
        assert (FollowUp.objects.count(), WebhookDelivery.objects.count()) == (0, 0)
        assert sum(stored_score_rollup_rows().values()) == 0
        second = response_announcements_sweep(now=timezone.now() + timedelta(minutes=2))
    finally:
        response_submitted.disconnect(dispatch_uid="test-failing-receiver")
    assert second["announced"] == 1
    assert _effects(response) == (1, 0, ["survey_response.created"])


def test_a_responses_announcements_go_out_in_order(loop, broker_down, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = response_submit(invitation=loop, score=9)
        response_comment(response=response, comment="Great")
    created, changed = ResponseAnnouncement.objects.order_by("pk")
    # The later announcement's task runs first: the earlier one is announced before it, in the same transaction.
    assert response_announcement_process(announcement_id=changed.pk) is True
    assert _effects(response)[2] == ["survey_response.created", "survey_response.updated"]
    assert ResponseAnnouncement.objects.filter(announced_at=None).count() == 0


def test_with_a_working_broker_the_answer_is_announced_right_after_commit(loop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = response_submit(invitation=loop, score=3)
    assert _effects(response) == (1, 0, ["survey_response.created"])
    assert ResponseAnnouncement.objects.filter(announced_at=None).count() == 0


def test_the_sweep_leaves_fresh_announcements_to_their_task(loop, broker_down, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=loop, score=3)
    assert response_announcements_sweep(now=timezone.now())["announced"] == 0
    assert ResponseAnnouncement.objects.filter(announced_at=None).count() == 1


@pytest.fixture
def handed():
    """A hand-over whose batches are recorded, each announced to the test as it is sent."""
    sent, arrived = [], threading.Semaphore(0)

    def send(announcement_ids):
        sent.append(announcement_ids)
        arrived.release()

    def make(window: float, batch: int = 200) -> AnnouncementHandOver:
        made.append(AnnouncementHandOver(send, window=window, batch=batch))
        return made[-1]

    made = []
    yield make, sent, arrived
    for hand_over in made:
        hand_over.stop()


def test_the_hand_over_sends_what_is_put_within_its_window_as_one_task(handed):
    make, sent, arrived = handed
    hand_over = make(window=1.0)  # wide enough that the first two puts always share it

    hand_over.put(3)
    hand_over.put(1)
    assert arrived.acquire(timeout=5)
    hand_over.put(2)
    assert arrived.acquire(timeout=5)

    assert sent == [[3, 1], [2]]


def test_the_hand_over_sends_a_full_batch_without_waiting_and_the_rest_when_stopped(handed):
    make, sent, arrived = handed
    hand_over = make(window=60, batch=2)

    for announcement_id in (1, 2, 3):
        hand_over.put(announcement_id)
    assert arrived.acquire(timeout=5)  # long before the minute's window
    hand_over.stop()

    assert sent == [[1, 2], [3]]


def test_a_batch_the_broker_refuses_is_logged_and_the_next_one_still_goes(caplog):
    sent = []

    def send(announcement_ids):
        sent.append(announcement_ids)
        if len(sent) == 1:
            raise ConnectionRefusedError("Redis is down")

    hand_over = AnnouncementHandOver(send, window=0.01, batch=1)
    hand_over.put(1)
    hand_over.put(2)
    hand_over.stop()

    assert sent == [[1], [2]]
    assert "1 announcements of answers were not handed to a worker; the beat job announces them" in caplog.text


def test_a_forked_process_hands_over_its_own_announcements_only():
    children = []
    hand_over = AnnouncementHandOver(children.append, window=60, batch=200)
    hand_over.put(1)  # waits in the parent's window
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child, as a gunicorn worker forked from a preloaded master
        try:
            hand_over.put(2)
            hand_over.stop()
            os.write(writing, json.dumps(children).encode())
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        in_child = json.loads(pipe.read())
    os.waitpid(pid, 0)
    hand_over.stop()

    assert in_child == [[2]]
    assert children == [[1]]


def test_with_a_broker_the_answer_is_handed_over_after_commit_and_not_sent_by_the_request(
    loop, monkeypatch, django_capture_on_commit_callbacks
):
    from surveys.services import announcements
    from surveys.tasks import announce_responses

    sent = []
    monkeypatch.setattr(announcements, "hand_over", AnnouncementHandOver(sent.append, window=60, batch=200))
    monkeypatch.setitem(announce_responses.app.conf, "task_always_eager", False)
    monkeypatch.setattr(announce_responses, "delay", lambda *args: pytest.fail("the request sent a task itself"))

    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=loop, score=2)
        assert sent == []  # nothing before the commit
    announcements.hand_over.stop()

    assert sent == [[ResponseAnnouncement.objects.get().pk]]


def test_a_new_answer_and_its_announcement_go_in_together_and_are_handed_over_after_commit(
    django_capture_on_commit_callbacks, django_assert_num_queries
):
    from django.db import connection

    invitation = InvitationFactory(survey=SurveyFactory(kind="nps"))
    confirmed = timezone.now()
    response = Response(
        invitation=invitation,
        survey_id=invitation.survey_id,
        contact_id=invitation.contact_id,
        score=4,
        confirmed_at=confirmed,
        browser_hash="ab" * 32,
    )

    with (
        django_assert_num_queries(1 if connection.vendor == "postgresql" else 2),
        django_capture_on_commit_callbacks() as hand_overs,
    ):
        response_create_announced(response=response)

    stored = Response.objects.get()
    announcement = ResponseAnnouncement.objects.get()
    assert (stored.pk, stored.invitation_id, stored.score, stored.confirmed_at) == (
        response.pk,
        invitation.pk,
        4,
        confirmed,
    )
    assert (stored.browser_hash, stored.tags, stored.held_reason) == ("ab" * 32, [], "")
    assert (announcement.response_id, announcement.created, announcement.changed) == (response.pk, True, [])
    assert (announcement.attempts, announcement.announced_at) == (0, None)
    assert announcement.created_at is not None
    assert len(hand_overs) == 1
