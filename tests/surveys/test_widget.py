from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from notifications.models import Suppression
from surveys.models import Contact, Invitation
from surveys.services.fatigue import contact_is_throttled
from surveys.services.publishable_keys import publishable_key_create
from surveys.services.widget import (
    DisplayOptions,
    Visitor,
    widget_answer_score,
    widget_decide,
    widget_invitation,
)
from tests.factories import ContactFactory, InvitationFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db

ANN = Visitor(email="ann@example.com", name="Ann")


@pytest.fixture
def key():
    return publishable_key_create(name="App", survey=SurveyFactory(), allowed_origins=["https://app.example"])


def decide(key, visitor=ANN, coin=0.0, **options):
    return widget_decide(publishable_key=key, visitor=visitor, options=DisplayOptions(**options), coin=lambda: coin)


def test_a_new_visitor_is_shown_the_card_as_a_web_invitation_without_a_message(key):
    decision = decide(key)

    invitation = decision.invitation
    assert (invitation.channel, invitation.status, invitation.message_id) == ("web", "queued", None)
    assert invitation.expires_at - invitation.scheduled_at == timedelta(hours=24)
    assert widget_invitation(publishable_key=key, token=decision.token) == invitation
    assert Contact.objects.get().email == "ann@example.com"


def test_an_anonymous_visitor_is_one_contact_per_snippet_visitor_id(key):
    first = decide(key, Visitor(visitor_id="abcdef0123456789"))
    again = decide(key, Visitor(visitor_id="abcdef0123456789"))

    assert first.invitation.contact.external_id == "web-visitor:abcdef0123456789"
    assert again.reason == "recently_asked"
    assert Contact.objects.count() == 1


def test_a_known_contact_is_found_whatever_the_case_of_the_address(key):
    known = ContactFactory(email="Ann@Example.com")

    assert decide(key, Visitor(email="ann@EXAMPLE.com")).invitation.contact == known
    assert Contact.objects.count() == 1


def test_a_visitor_without_email_or_id_is_refused(key):
    with pytest.raises(ValidationError) as refused:
        decide(key, Visitor())

    assert refused.value.message_dict == {"visitor": ["Give the person's email or the snippet's visitor id."]}


def test_a_paused_survey_never_shows_even_forced(key):
    key.survey.is_active = False
    key.survey.save()

    assert decide(key, force_display=True).reason == "survey_paused"


@pytest.mark.parametrize(("coin", "factor", "shown"), [(0.49, 0.5, True), (0.5, 0.5, False), (0.99, None, True)])
def test_the_sample_factor_of_the_call_wins_over_the_key(key, coin, factor, shown):
    decision = decide(key, coin=coin, sample_factor=factor)

    assert (decision.invitation is not None, decision.reason) == (shown, "" if shown else "sampled_out")


def test_the_key_sample_factor_applies_when_the_call_gives_none(key):
    key.sample_factor = 0.1
    key.save()

    assert decide(key, coin=0.2).reason == "sampled_out"


def test_initial_delay_counts_from_the_person_created_at(key):
    an_hour_ago = timezone.now() - timedelta(hours=1)

    too_early = decide(key, Visitor(email="a@example.com", created_at=an_hour_ago), initial_delay_seconds=7200)
    on_time = decide(key, Visitor(email="b@example.com", created_at=an_hour_ago), initial_delay_seconds=3000)

    assert (too_early.reason, on_time.reason) == ("too_early", "")


def test_the_recurring_period_spaces_two_cards_and_false_asks_once(key):
    first = decide(key, recurring_period_seconds=60)
    # Past the fatigue window across surveys (30 days), so that only the widget's own rule speaks.
    Invitation.objects.filter(pk=first.invitation.pk).update(scheduled_at=timezone.now() - timedelta(days=31))

    assert decide(key, recurring_period_seconds=60).invitation is not None
    assert decide(key, recurring_period_seconds=0, only_once=True).reason == "recently_asked"


def test_an_answered_card_is_reported_as_already_answered(key):
    decision = decide(key)
    widget_answer_score(invitation=decision.invitation, score=9)

    assert decide(key).reason == "already_answered"


def test_an_email_survey_sent_recently_keeps_the_widget_quiet_and_the_other_way_round(key):
    contact = ContactFactory(email="ann@example.com")
    InvitationFactory(contact=contact, survey=SurveyFactory(), scheduled_at=timezone.now() - timedelta(days=3))

    assert decide(key).reason == "throttled"

    shown = decide(key, Visitor(email="bob@example.com"))
    bob = shown.invitation.contact
    assert contact_is_throttled(contact=bob, survey=SurveyFactory(), at=timezone.now())


def test_a_shown_card_still_counts_for_fatigue_once_expired(key):
    shown = decide(key).invitation
    Invitation.objects.filter(pk=shown.pk).update(status=Invitation.Status.EXPIRED)

    assert contact_is_throttled(contact=shown.contact, survey=SurveyFactory(), at=timezone.now())


def test_an_opted_out_email_is_not_asked_on_the_web_either_but_a_bounce_is(key):
    Suppression.objects.create(channel="email", recipient="ann@example.com", reason="unsubscribe")
    Suppression.objects.create(channel="email", recipient="bob@example.com", reason="bounce")

    assert decide(key).reason == "opted_out"
    assert decide(key, Visitor(email="bob@example.com")).invitation is not None


def test_force_display_skips_sampling_fatigue_and_the_recurring_period(key):
    ResponseFactory(
        invitation=InvitationFactory(contact=ContactFactory(email="ann@example.com"), survey=key.survey, channel="web")
    )

    assert decide(key, coin=0.99, sample_factor=0.0, force_display=True).invitation is not None


def test_a_widget_answer_is_recorded_once_and_changed_by_its_card(key):
    invitation = decide(key).invitation

    widget_answer_score(invitation=invitation, score=3)
    response, questions = widget_answer_score(invitation=invitation, score=8)

    assert (response.score, questions) == (8, [])
    assert invitation.response.pk == response.pk
