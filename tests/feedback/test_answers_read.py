"""Routing on what was read in a comment (feedback.services.answers with insights' reading)."""

import pytest

from feedback.models import FollowUp, FollowUpEntry
from insights.analysis import comments_analyse_pending
from surveys.services.responses import response_submit
from tests.factories import InvitationFactory, RoutingRuleFactory, SurveyFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _answer(score, comment, django_capture_on_commit_callbacks, survey=None):
    invitation = InvitationFactory(survey=survey or SurveyFactory(kind="nps"))
    with django_capture_on_commit_callbacks(execute=True):
        response = response_submit(invitation=invitation, score=score, comment=comment)
    with django_capture_on_commit_callbacks(execute=True):
        comments_analyse_pending()
    return response


def test_a_promoter_with_a_negative_comment_opens_a_case_once_the_comment_is_read(django_capture_on_commit_callbacks):
    care = TeamFactory(name="Care")
    UserFactory(team=care)
    RoutingRuleFactory(team=care, score_min=9, score_max=10, sentiment="negative")

    response = _answer(10, "Still waiting for my refund, nobody answers.", django_capture_on_commit_callbacks)

    follow_up = FollowUp.objects.get(response=response)
    assert follow_up.team == care
    happy = _answer(10, "Perfect, thank you!", django_capture_on_commit_callbacks)
    assert not FollowUp.objects.filter(response=happy).exists()


def test_a_theme_rule_moves_an_untouched_case_to_its_team(django_capture_on_commit_callbacks):
    billing, care = TeamFactory(name="Billing"), TeamFactory(name="Care")
    UserFactory(team=billing)
    UserFactory(team=care)
    RoutingRuleFactory(position=1, team=billing, theme="billing_refund")
    RoutingRuleFactory(position=2, team=care)

    response = _answer(2, "Vous m'avez débité deux fois.", django_capture_on_commit_callbacks)

    follow_up = FollowUp.objects.get(response=response)
    assert follow_up.team == billing
    bodies = list(follow_up.entries.filter(kind=FollowUpEntry.Kind.UPDATED).values_list("body", flat=True))
    assert bodies[0] == "The comment was read: billing_refund; negative sentiment."


def test_reading_a_comment_leaves_a_case_its_rule_still_routes(django_capture_on_commit_callbacks):
    care = TeamFactory(name="Care")
    UserFactory(team=care)
    RoutingRuleFactory(position=1, team=TeamFactory(name="Billing"), theme="billing_refund")
    RoutingRuleFactory(position=2, team=care)

    response = _answer(2, "Late delivery.", django_capture_on_commit_callbacks)

    follow_up = FollowUp.objects.get(response=response)
    assert follow_up.team == care
    assert not follow_up.entries.filter(kind=FollowUpEntry.Kind.UPDATED).exists()


def test_inbox_rows_and_the_case_show_theme_chips_and_sentiment(client, django_capture_on_commit_callbacks):
    from tests.factories import ManagerFactory

    care = TeamFactory(name="Care")
    UserFactory(team=care)
    RoutingRuleFactory(team=care)
    response = _answer(2, "Colis perdu.", django_capture_on_commit_callbacks)
    follow_up = FollowUp.objects.get(response=response)
    client.force_login(ManagerFactory())

    inbox = client.get("/follow-ups/", {"view": "all"}).content.decode()
    case = client.get(f"/follow-ups/{follow_up.pk}/").content.decode()

    for page in (inbox, case):
        assert '<span class="chip theme">delivery</span>' in page
        assert '<span class="chip sentiment negative"' in page
