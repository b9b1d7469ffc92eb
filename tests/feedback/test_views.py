from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.models import FixCheck, FollowUp
from feedback.selectors import CUSTOMER_HISTORY_LIMIT
from notifications.models import InboundSms, Message
from surveys.models import ResponseNote
from tests.factories import (
    ContactFactory,
    EventFactory,
    FollowUpFactory,
    InvitationFactory,
    ResponseFactory,
    RootCauseFactory,
    RoutingRuleFactory,
    SurveyFactory,
    UserFactory,
)

QUERIES_INBOX = 6
QUERIES_CASE_PAGE = 14

pytestmark = pytest.mark.django_db


@pytest.fixture
def follow_up(team):
    return FollowUpFactory(team=team)


def _client(client, who, request):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    return client


@pytest.mark.parametrize(("who", "status"), [("agent", 200), ("manager", 200), ("other_agent", 404)])
def test_follow_up_detail_permission_cast(client, request, follow_up, who, status):
    response = _client(client, who, request).get(reverse("follow-up-detail", args=[follow_up.pk]))

    assert response.status_code == status


@pytest.mark.parametrize("name", ["follow-up-inbox", "follow-up-detail"])
def test_follow_up_pages_send_anonymous_to_login(client, follow_up, name):
    url = reverse(name, args=[follow_up.pk] if name == "follow-up-detail" else [])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize(("who", "listed"), [("agent", True), ("manager", True), ("other_agent", False)])
def test_follow_up_inbox_lists_only_visible_cases(client, request, follow_up, who, listed):
    response = _client(client, who, request).get(reverse("follow-up-inbox"), {"view": "all"})

    assert response.status_code == 200
    assert [case.pk for case in response.context["page"].object_list] == ([follow_up.pk] if listed else [])


@pytest.mark.parametrize(("who", "status"), [("agent", 302), ("manager", 302), ("other_agent", 404)])
def test_follow_up_note_permission_cast(client, request, follow_up, who, status):
    response = _client(client, who, request).post(
        reverse("follow-up-note", args=[follow_up.pk]), {"body": "Called, left a message"}
    )

    assert response.status_code == status
    assert follow_up.entries.filter(kind="note").count() == (1 if status == 302 else 0)


def test_follow_up_note_anonymous_is_sent_to_login(client, follow_up):
    response = client.post(reverse("follow-up-note", args=[follow_up.pk]), {"body": "x"})

    assert response.status_code == 302
    assert follow_up.entries.count() == 0


def test_follow_up_note_blank_is_400_with_field_message(client, agent, follow_up):
    client.force_login(agent)

    response = client.post(reverse("follow-up-note", args=[follow_up.pk]), {"body": "  "})

    assert response.status_code == 400
    assert response.context["note_form"].errors == {"body": ["This field is required."]}


@pytest.mark.parametrize(("who", "status"), [("agent", 302), ("manager", 302), ("other_agent", 404)])
def test_follow_up_resolve_permission_cast(client, request, follow_up, who, status):
    cause = RootCauseFactory()

    response = _client(client, who, request).post(
        reverse("follow-up-resolve", args=[follow_up.pk]),
        {"root_cause": cause.pk, "outcome": "recovered", "note": "Refunded"},
    )

    assert response.status_code == status
    follow_up.refresh_from_db()
    assert follow_up.status == (FollowUp.Status.RESOLVED if status == 302 else FollowUp.Status.NEW)


def test_follow_up_resolve_without_root_cause_is_400(client, agent, follow_up):
    client.force_login(agent)

    response = client.post(
        reverse("follow-up-resolve", args=[follow_up.pk]), {"outcome": "recovered", "note": "Refunded"}
    )

    assert response.status_code == 400
    assert response.context["resolve_form"].errors == {"root_cause": ["This field is required."]}
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.NEW


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("mine", ["mine"]),
        ("team", ["queued", "mine", "late"]),
        ("unassigned", ["queued", "late"]),
        ("overdue", ["late"]),
    ],
)
def test_follow_up_inbox_views(client, agent, team, view, expected):
    now = timezone.now()
    cases = {
        "mine": FollowUpFactory(team=team, assignee=agent, due_at=now + timedelta(hours=3)),
        "queued": FollowUpFactory(team=team, due_at=now + timedelta(hours=5)),
        "late": FollowUpFactory(team=team, due_at=now - timedelta(hours=1)),
    }
    FollowUpFactory()
    client.force_login(agent)

    response = client.get(reverse("follow-up-inbox"), {"view": view, "sort": "-due"})

    names = {case.pk: name for name, case in cases.items()}
    assert [names[case.pk] for case in response.context["page"].object_list] == expected


def test_follow_up_inbox_filters_by_score_and_priority(client, manager, team):
    wanted = FollowUpFactory(team=team, priority="high", response=ResponseFactory(score=1))
    FollowUpFactory(team=team, priority="normal", response=ResponseFactory(score=1))
    FollowUpFactory(team=team, priority="high", response=ResponseFactory(score=2))
    client.force_login(manager)

    response = client.get(reverse("follow-up-inbox"), {"score": "1", "priority": "high"})

    assert [case.pk for case in response.context["page"].object_list] == [wanted.pk]


def test_follow_up_inbox_bad_filter_is_400_with_field_message(client, manager):
    client.force_login(manager)

    response = client.get(reverse("follow-up-inbox"), {"score": "lots", "view": "everything"})

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "view": ["Select a valid choice. everything is not one of the available choices."],
        "score": ["Enter a whole number."],
    }


@pytest.mark.parametrize("count", [1, 50])
def test_follow_up_inbox_query_count(client, manager, team, django_assert_num_queries, count):
    for _ in range(count):
        FollowUpFactory(team=team)
    client.force_login(manager)

    # session, user, the views' counts, the page's count, page of cases with their team/assignee/survey/contact/
    # invitation in one join, agents for bulk assignment.
    with django_assert_num_queries(QUERIES_INBOX):
        response = client.get(reverse("follow-up-inbox"), {"view": "all"})

    assert len(response.context["page"].object_list) == count


@pytest.mark.parametrize(("who", "status"), [("agent", 302), ("manager", 302), ("other_agent", 404)])
def test_follow_up_claim_permission_cast(client, request, follow_up, who, status):
    response = _client(client, who, request).post(reverse("follow-up-claim", args=[follow_up.pk]))

    assert response.status_code == status
    follow_up.refresh_from_db()
    assert follow_up.assignee == (request.getfixturevalue(who) if status == 302 else None)


def test_follow_up_status_moves_to_waiting(client, agent, follow_up):
    client.force_login(agent)

    response = client.post(reverse("follow-up-status", args=[follow_up.pk]), {"status": "waiting"})

    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.WAITING
    assert follow_up.entries.get().body == "New → Waiting on customer"


def test_follow_up_status_other_agent_is_404(client, other_agent, follow_up):
    client.force_login(other_agent)

    assert client.post(reverse("follow-up-status", args=[follow_up.pk]), {"status": "waiting"}).status_code == 404


def test_follow_up_reopen_after_resolve(client, agent, follow_up):
    client.force_login(agent)
    client.post(
        reverse("follow-up-resolve", args=[follow_up.pk]), {"root_cause": RootCauseFactory().pk, "outcome": "recovered"}
    )

    response = client.post(reverse("follow-up-reopen", args=[follow_up.pk]))

    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.IN_PROGRESS


def test_follow_up_reopen_open_case_is_400(client, agent, follow_up):
    client.force_login(agent)

    response = client.post(reverse("follow-up-reopen", args=[follow_up.pk]))

    assert response.status_code == 400
    assert response.context["action_errors"] == ["Only a resolved case can be reopened."]


@pytest.mark.parametrize(("who", "status"), [("agent", 302), ("manager", 302), ("other_agent", 404)])
def test_follow_up_reply_permission_cast(client, request, team, who, status):
    follow_up = FollowUpFactory(
        team=team, response=ResponseFactory(invitation__contact=ContactFactory(email="c@example.com"))
    )

    response = _client(client, who, request).post(reverse("follow-up-reply", args=[follow_up.pk]), {"body": "Sorry!"})

    assert response.status_code == status
    assert list(Message.objects.values_list("recipient", "body_text")) == (
        [("c@example.com", "Sorry!")] if status == 302 else []
    )


def test_follow_up_reply_blank_is_400(client, agent, follow_up):
    client.force_login(agent)

    response = client.post(reverse("follow-up-reply", args=[follow_up.pk]), {"body": ""})

    assert response.status_code == 400
    assert response.context["reply_form"].errors == {"body": ["This field is required."]}


def test_follow_up_detail_shows_timeline_and_actions(client, agent, follow_up):
    client.force_login(agent)
    client.post(reverse("follow-up-note", args=[follow_up.pk]), {"body": "Called the customer"})

    response = client.get(reverse("follow-up-detail", args=[follow_up.pk]))

    content = response.content.decode()
    assert "Called the customer" in content
    assert "Send reply" in content and "Claim" in content and "Resolve" in content


def test_follow_up_claim_by_anonymous_is_sent_to_login(client, follow_up):
    assert client.post(reverse("follow-up-claim", args=[follow_up.pk])).status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.assignee is None


@pytest.mark.parametrize(("who", "status"), [("agent", 302), ("manager", 302), ("other_agent", 404)])
def test_follow_up_reassign_permission_cast(client, request, team, follow_up, who, status):
    colleague = UserFactory(email="colleague@closeloop.test", team=team)

    response = _client(client, who, request).post(
        reverse("follow-up-reassign", args=[follow_up.pk]), {"assignee": colleague.pk}
    )

    assert response.status_code == status
    follow_up.refresh_from_db()
    assert follow_up.assignee == (colleague if status == 302 else None)


def test_follow_up_reassign_to_the_team_queue(client, agent, team):
    follow_up = FollowUpFactory(team=team, assignee=agent)
    client.force_login(agent)

    response = client.post(reverse("follow-up-reassign", args=[follow_up.pk]), {"assignee": ""})

    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.assignee is None
    assert follow_up.entries.get().body == "Put back in the team queue"


def test_follow_up_reassign_to_an_agent_of_another_team_is_400(client, agent, other_agent, follow_up):
    client.force_login(agent)

    response = client.post(reverse("follow-up-reassign", args=[follow_up.pk]), {"assignee": other_agent.pk})

    assert response.status_code == 400
    assert response.context["reassign_form"].errors == {
        "assignee": ["Select a valid choice. That choice is not one of the available choices."]
    }
    follow_up.refresh_from_db()
    assert follow_up.assignee is None


@pytest.mark.parametrize(("who", "status"), [("manager", 302), ("agent", 400), ("other_agent", 404)])
def test_follow_up_move_permission_cast(client, request, team, other_team, follow_up, who, status):
    response = _client(client, who, request).post(
        reverse("follow-up-move", args=[follow_up.pk]), {"team": other_team.pk}
    )

    assert response.status_code == status
    follow_up.refresh_from_db()
    assert follow_up.team == (other_team if status == 302 else team)
    if status == 400:
        assert response.context["action_errors"] == ["Only a manager can move a case to another team."]


def test_follow_up_detail_offers_team_agents_and_managers_the_move(client, request, team, other_team, follow_up):
    UserFactory(email="colleague@closeloop.test", team=team)
    UserFactory(email="stranger@closeloop.test", team=other_team)

    for who, can_move in (("agent", False), ("manager", True)):
        response = _client(client, who, request).get(reverse("follow-up-detail", args=[follow_up.pk]))

        assignees = [label for _, label in response.context["reassign_form"].fields["assignee"].choices]
        assert assignees == ["Team queue (nobody)", "agent@closeloop.test", "colleague@closeloop.test"]
        assert (response.context["move_form"] is not None) is can_move
        assert ("Move to team" in response.content.decode()) is can_move


def test_follow_up_detail_shows_the_customers_other_answers_and_events(client, agent, team, other_team):
    contact = ContactFactory(email="ana@example.com")
    case = FollowUpFactory(team=team, response=ResponseFactory(invitation__contact=contact, score=2))
    earlier_confirmed = timezone.now() - timedelta(days=3)
    own_case = FollowUpFactory(
        team=team,
        response=ResponseFactory(
            invitation__contact=contact, score=1, comment="Late again", confirmed_at=earlier_confirmed
        ),
    )
    hidden_case = FollowUpFactory(
        team=other_team, response=ResponseFactory(invitation__contact=contact, confirmed_at=earlier_confirmed)
    )
    happy = ResponseFactory(invitation__contact=contact, score=9, confirmed_at=timezone.now() - timedelta(days=9))
    EventFactory(contact=contact, type="purchase", external_id="order-77", properties={"store": "Lyon"})
    client.force_login(agent)

    response = client.get(reverse("follow-up-detail", args=[case.pk]))

    # Another team's answer is not the agent's to read; one without a case is, on a survey routed to the team.
    assert [(past.response.pk, past.case_id) for past in response.context["past_answers"]] == [
        (own_case.response.pk, own_case.pk),
    ]
    RoutingRuleFactory(team=team, survey=happy.survey)
    routed = client.get(reverse("follow-up-detail", args=[case.pk]))
    assert [past.response.pk for past in routed.context["past_answers"]] == [own_case.response.pk, happy.pk]
    content = response.content.decode()
    assert f'href="/follow-ups/{own_case.pk}/"' in content
    assert f'href="/follow-ups/{hidden_case.pk}/"' not in content
    assert "Late again" in content
    assert "order-77" in content and "store: Lyon" in content


def test_follow_up_detail_shows_the_fix_check_answer(client, agent, team):
    follow_up = FollowUpFactory(team=team, status="resolved", resolved_at=timezone.now(), fix_confirmed=False)
    invitation = InvitationFactory(survey=SurveyFactory(name="Did we fix it?", kind="thumbs"))
    FixCheck.objects.create(follow_up=follow_up, invitation=invitation, resolved_at=follow_up.resolved_at, fixed=False)
    ResponseFactory(invitation=invitation, score=0)
    client.force_login(agent)

    content = client.get(reverse("follow-up-detail", args=[follow_up.pk])).content.decode()

    assert "Did we fix it? by email" in content
    assert "<strong>not fixed</strong> (score 0)" in content


def test_follow_up_detail_shows_the_answers_tags_and_notes_read_only(client, agent, team):
    response = ResponseFactory(tags=["pricing", "<b>late</b>"])
    ResponseNote.objects.create(response=response, text="Called back\nno answer", user_email="lea@example.com")
    ResponseNote.objects.create(response=response, text="Refund <script>")
    follow_up = FollowUpFactory(team=team, response=response)
    client.force_login(agent)

    page = client.get(reverse("follow-up-detail", args=[follow_up.pk]))

    notes = [(item.author, item.text) for item in page.context["thread"] if item.kind == "note"]
    assert notes == [("lea@example.com", "Called back\nno answer"), ("", "Refund <script>")]
    content = page.content.decode()
    assert '<p id="answer-tags">Tags: pricing, &lt;b&gt;late&lt;/b&gt;</p>' in content
    assert "Called back<br>no answer</div>" in content
    assert "Refund &lt;script&gt;</div>" in content


def test_follow_up_detail_without_tags_or_notes_shows_neither(client, agent, follow_up):
    client.force_login(agent)

    content = client.get(reverse("follow-up-detail", args=[follow_up.pk])).content.decode()

    assert "answer-tags" not in content and "Notes on this answer" not in content


def test_follow_up_detail_says_a_fix_check_was_withdrawn_by_a_reopen(client, agent, team):
    follow_up = FollowUpFactory(team=team)
    invitation = InvitationFactory(status="cancelled", cancel_reason="case_reopened")
    FixCheck.objects.create(follow_up=follow_up, invitation=invitation, resolved_at=timezone.now())
    client.force_login(agent)

    content = client.get(reverse("follow-up-detail", args=[follow_up.pk])).content.decode()

    assert "withdrawn, the case was reopened before it went out</li>" in content


@pytest.mark.parametrize("who", ["agent", "manager"])
@pytest.mark.parametrize("count", [1, 50])
def test_follow_up_detail_query_count(client, request, team, django_assert_num_queries, who, count):
    contact = ContactFactory()
    follow_up = FollowUpFactory(
        team=team, response=ResponseFactory(invitation__contact=contact, tags=[f"tag {n}" for n in range(count)])
    )
    for _ in range(count):
        ResponseNote.objects.create(response=follow_up.response, text="Spoke to them")
        FollowUpFactory(team=team, response=ResponseFactory(invitation__contact=contact))
        EventFactory(contact=contact)
        UserFactory(team=team)
        RootCauseFactory()
        follow_up.entries.create(kind="note", body="Called", author=request.getfixturevalue("agent"))
        FixCheck.objects.create(
            follow_up=follow_up, invitation=InvitationFactory(contact=contact), resolved_at=timezone.now()
        )
    _client(client, who, request)

    # session, user, case with its team/assignee/cause/answer/survey/contact/invitation/event, other answers with
    # their cases, events, suppression of the email (no phone), canned replies, extra answers, thread entries with
    # authors and messages, notes on the answer, fix checks with their answers, agents to reassign to, root causes;
    # an agent's team (their time zone), or, for a manager, the teams to move to.
    # An agent's customer history also reads which surveys their team's routing rules send them (one query).
    with django_assert_num_queries(QUERIES_CASE_PAGE + (1 if who == "agent" else 0)):
        response = client.get(reverse("follow-up-detail", args=[follow_up.pk]))

    assert len(response.context["past_answers"]) == min(count, CUSTOMER_HISTORY_LIMIT)
    assert len(response.context["fix_checks"]) == count
    assert len([item for item in response.context["thread"] if item.kind == "note"]) == 2 * count


@pytest.mark.parametrize("count", [1, 50])
def test_follow_up_inbox_agent_query_count(client, agent, team, django_assert_num_queries, count):
    for _ in range(count):
        FollowUpFactory(team=team, assignee=agent)

    client.force_login(agent)

    # session, user, the views' counts, the page's count, page of the agent's work, agents for bulk assignment,
    # and the agent's team (the time zone due times are shown in).
    with django_assert_num_queries(QUERIES_INBOX + 1):
        response = client.get(reverse("follow-up-inbox"))

    assert len(response.context["page"].object_list) == count


def test_follow_up_page_replies_on_whatsapp_in_the_session_and_says_why_not_after_it(client, agent, team):
    contact = ContactFactory(email="", phone="+33612345678")
    follow_up = FollowUpFactory(
        team=team, response=ResponseFactory(invitation=InvitationFactory(contact=contact, channel="whatsapp"))
    )
    InboundSms.objects.create(provider_message_id="SM1", channel="whatsapp", phone="+33612345678", body="Late")
    client.force_login(agent)
    page = client.get(reverse("follow-up-detail", args=[follow_up.pk])).content.decode()
    assert '<input type="radio" name="channel" value="whatsapp" checked> WhatsApp to +33612345678</label>' in page

    sent = client.post(reverse("follow-up-reply", args=[follow_up.pk]), {"body": "On it", "channel": "whatsapp"})
    assert sent.status_code == 302
    assert list(Message.objects.values_list("channel", "recipient", "body_text")) == [
        ("whatsapp", "+33612345678", "On it")
    ]

    InboundSms.objects.update(received_at=timezone.now() - timedelta(hours=25))
    closed = client.get(reverse("follow-up-detail", args=[follow_up.pk])).content.decode()
    assert (
        'value="whatsapp" disabled> WhatsApp to +33612345678 (no open WhatsApp session: WhatsApp accepts a reply'
        " only within 24 hours of the customer&#x27;s last WhatsApp message)</label>"
    ) in closed
    # The first channel that can be used is preselected instead.
    assert '<input type="radio" name="channel" value="sms" checked> SMS to +33612345678</label>' in closed
    refused = client.post(reverse("follow-up-reply", args=[follow_up.pk]), {"body": "Again", "channel": "whatsapp"})
    assert refused.status_code == 400
    assert "The customer cannot be contacted by whatsapp: no open WhatsApp session" in refused.content.decode()
    assert Message.objects.count() == 1


def test_a_french_speaking_agent_reads_the_inbox_in_french(client, team):
    agent = UserFactory(team=team, language="fr")
    now = timezone.now()
    FollowUpFactory(
        team=team, due_at=now + timedelta(hours=3, minutes=30), priority="high", response=ResponseFactory(score=2)
    )
    FollowUpFactory(team=team, due_at=now - timedelta(hours=2, minutes=30))
    client.force_login(agent)

    html = client.get(reverse("follow-up-inbox"), {"view": "all"}).content.decode()

    assert "<title>Boîte de réception · Closeloop</title>" in html
    assert '<p class="summary" id="summary">2 cas dans Tous.</p>' in html
    assert "<legend>Avec les cas cochés</legend>" in html
    assert '<button type="submit" name="action" value="claim">Prendre en charge</button>' in html
    assert '<span class="priority-high">Priorité haute</span>' in html
    assert "dans 3 h</time>" in html
    assert "en retard de 2 h</time>" in html
    assert '<span class="visually-hidden"> sur 10, détracteur</span>' in html
    assert "<summary>Raccourcis clavier</summary>" in html
    assert "Follow-ups" not in html


def test_a_french_speaking_agent_reads_a_case_in_french(client, team):
    agent = UserFactory(team=team, language="fr", email="marie@closeloop.test")
    RootCauseFactory()
    follow_up = FollowUpFactory(team=team, assignee=agent, response=ResponseFactory(score=1, comment="Colis abîmé"))
    client.force_login(agent)

    html = client.get(reverse("follow-up-detail", args=[follow_up.pk])).content.decode()

    assert f"<title>Cas n° {follow_up.pk} · Closeloop</title>" in html
    assert f"Équipe {team.name} · attribué à marie@closeloop.test" in html
    assert '<h2 id="thread-title">Conversation</h2>' in html
    assert '<h2 id="reply-title">Répondre au client</h2>' in html
    assert '<h2 id="resolve-title">Résoudre</h2>' in html
    assert '<label for="id_root_cause">Cause racine</label>' in html
    assert '<option value="" selected>Choisissez le résultat</option>' in html
    assert '<option value="recovered">Client reconquis</option>' in html
    assert '<span class="status status-new" id="case-status">Nouveau</span>' in html
    assert '<button type="submit">Envoyer la réponse</button>' in html


def test_a_refused_action_is_explained_in_the_agents_language(client, team):
    agent = UserFactory(team=team, language="fr")
    follow_up = FollowUpFactory(team=team)
    client.force_login(agent)

    response = client.post(
        reverse("follow-up-snooze", args=[follow_up.pk]), {"until": timezone.localdate().isoformat()}
    )

    assert response.status_code == 400
    assert "Choisissez un jour après aujourd&#x27;hui." in response.content.decode()
