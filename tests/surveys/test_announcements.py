"""The answers' outbox: every committed answer gets its case, its rollup count and its webhook exactly once, even
when the broker is down at commit, the task is lost, or a receiver fails half-way."""

from datetime import timedelta

import pytest
from django.dispatch import receiver
from django.utils import timezone

from feedback.models import FollowUp
from insights.rollups import full_score_rollup_rows, stored_score_rollup_rows
from integrations.models import WebhookDelivery, WebhookSubscription
from surveys.models import ResponseAnnouncement
from surveys.services.announcements import response_announcement_process, response_announcements_sweep
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
    from surveys.tasks import announce_response

    with broker_refusing(announce_response):
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
