import time

import pytest

from surveys.models import ApiKey, Invitation, Response, Survey, TriggerRule
from surveys.selectors import (
    INTAKE_CACHE_SECONDS,
    api_key_get_active,
    intake_copies_forget,
    invitation_get_by_token,
    invitation_lock_response,
    invitation_response,
    trigger_rules_all,
)
from surveys.services.api_keys import api_key_create, api_keys_revoke
from surveys.tokens import invitation_token
from tests.factories import InvitationFactory, ResponseFactory, SurveyFactory, TriggerRuleFactory

pytestmark = pytest.mark.django_db


def test_a_process_keeps_its_copies_of_keys_and_rules_while_nothing_changes(django_assert_num_queries):
    api_key, raw = api_key_create(name="shop")
    TriggerRuleFactory(event_type="purchase")
    kept_key, kept_rules = api_key_get_active(raw_key=raw), trigger_rules_all()

    with django_assert_num_queries(0):
        again_key, again_rules = api_key_get_active(raw_key=raw), trigger_rules_all()

    assert again_key is kept_key and kept_key == api_key
    assert again_rules is kept_rules and [rule.event_type for rule in again_rules] == ["purchase"]


def test_a_change_made_by_another_process_is_read_from_the_next_lookup_on():
    rule = TriggerRuleFactory(event_type="purchase")
    api_key, raw = api_key_create(name="shop")
    api_key_get_active(raw_key=raw), trigger_rules_all()
    # Another process changed both and wrote a new version (its signals did); this one sent no signal.
    TriggerRule.objects.filter(pk=rule.pk).update(event_type="refund")
    ApiKey.objects.filter(pk=api_key.pk).update(name="renamed")
    intake_copies_forget()

    assert [rule.event_type for rule in trigger_rules_all()] == ["refund"]
    assert api_key_get_active(raw_key=raw).name == "renamed"


def test_saving_a_rule_or_a_survey_and_revoking_a_key_are_seen_at_once():
    api_key, raw = api_key_create(name="shop")
    rule = TriggerRuleFactory(event_type="purchase")
    api_key_get_active(raw_key=raw), trigger_rules_all()

    rule.survey.name = "Renamed survey"
    rule.survey.save()
    assert trigger_rules_all()[0].survey.name == "Renamed survey"
    TriggerRuleFactory(event_type="refund", survey=SurveyFactory())
    assert [rule.event_type for rule in trigger_rules_all()] == ["purchase", "refund"]
    api_keys_revoke(ids=[api_key.pk])
    assert api_key_get_active(raw_key=raw) is None


def test_copies_are_read_afresh_after_intake_cache_seconds_even_without_a_new_version(monkeypatch):
    # With the in-process cache another process's new version is never seen: the copies' age bounds it.
    rule = TriggerRuleFactory(event_type="purchase")
    trigger_rules_all()
    TriggerRule.objects.filter(pk=rule.pk).update(event_type="refund")
    now = time.monotonic()

    monkeypatch.setattr(time, "monotonic", lambda: now + INTAKE_CACHE_SECONDS - 1)
    assert [rule.event_type for rule in trigger_rules_all()] == ["purchase"]
    monkeypatch.setattr(time, "monotonic", lambda: now + INTAKE_CACHE_SECONDS + 1)
    assert [rule.event_type for rule in trigger_rules_all()] == ["refund"]


def test_unknown_keys_are_not_kept(django_assert_num_queries):
    api_key_get_active(raw_key="cl_made-up")

    with django_assert_num_queries(1):
        assert api_key_get_active(raw_key="cl_made-up") is None


def test_a_request_reads_the_version_once_for_its_key_and_its_rules(api_client, monkeypatch):
    from django.core.cache import cache

    TriggerRuleFactory(event_type="purchase")
    reads = []
    original = cache.get
    monkeypatch.setattr(cache, "get", lambda key, *args: reads.append(key) or original(key, *args))

    response = api_client.post(
        "/api/events/", {"type": "purchase", "contact": {"email": "a@example.com"}}, format="json"
    )

    assert response.status_code == 201
    assert reads.count("surveys:intake-version") == 1


def test_a_change_within_a_request_is_read_by_its_later_lookups():
    # The receivers of request_started and request_finished, without Django's own (they close the connection).
    from surveys.selectors import _request_version_outside, _request_version_unread

    rule = TriggerRuleFactory(event_type="purchase")
    _request_version_unread(sender=None)
    try:
        assert [rule.event_type for rule in trigger_rules_all()] == ["purchase"]
        rule.event_type = "refund"
        rule.save()
        assert [rule.event_type for rule in trigger_rules_all()] == ["refund"]
    finally:
        _request_version_outside(sender=None)


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_invitation_get_by_token_reads_what_the_orm_reads_in_one_statement(django_assert_num_queries):
    survey = SurveyFactory(question_text={"fr": "Alors ?"}, thank_you_link_url="https://example.com/merci")
    invitation = InvitationFactory(survey=survey, properties={"question_product_name": "la livraison"}, locale="fr")
    ResponseFactory(invitation=invitation, score=4, tags=["late"], comment="Trop lent")

    with django_assert_num_queries(1):
        found = invitation_get_by_token(token=invitation_token(invitation.public_id))
        response = invitation_response(found)
        assert response.invitation is found

    assert _fields(found) == _fields(Invitation.objects.get(pk=invitation.pk))
    assert _fields(found.survey) == _fields(Survey.objects.get(pk=survey.pk))
    assert _fields(response) == _fields(Response.objects.get(invitation=invitation))


def test_invitation_get_by_token_knows_an_unanswered_invitation_has_no_response(django_assert_num_queries):
    invitation = InvitationFactory()

    with django_assert_num_queries(1):
        assert invitation_response(invitation_get_by_token(token=invitation_token(invitation.public_id))) is None


@pytest.mark.parametrize("status", [Invitation.Status.CANCELLED, Invitation.Status.EXPIRED])
def test_invitation_get_by_token_finds_no_closed_invitation(status):
    invitation = InvitationFactory(status=status)

    assert invitation_get_by_token(token=invitation_token(invitation.public_id)) is None


def test_invitation_lock_response_reads_the_response_after_the_lock(django_assert_num_queries):
    invitation = InvitationFactory()
    assert invitation_lock_response(invitation) is None
    ResponseFactory(invitation=invitation, score=8)

    with django_assert_num_queries(2):  # the lock, then the read
        response = invitation_lock_response(invitation)

    assert _fields(response) == _fields(Response.objects.get(invitation=invitation))
    assert response.invitation is invitation
