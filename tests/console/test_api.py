import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from console.models import AuditEntry
from feedback.models import CannedReply, RoutingRule, User
from surveys.models import Answer, ApiKey, Contact, EventBatch, PublishableKey, Question, Survey, SurveyLink
from surveys.scales import SCALES
from surveys.services.api_keys import api_key_create
from tests.factories import (
    ContactFactory,
    ManagerFactory,
    ResponseFactory,
    SurveyFactory,
    TeamFactory,
    UserFactory,
)
from tests.fakes.slack import TOKEN as SLACK_TOKEN
from tests.fakes.slack import FakeSlack, slack_channel

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/branding/",
    "/api/surveys/",
    "/api/contacts/",
    "/api/responses/",
    "/api/routing-rules/",
    "/api/teams/",
    "/api/canned-replies/",
    "/api/root-causes/",
    "/api/users/",
    "/api/api-keys/",
    "/api/publishable-keys/",
    "/api/audit-trail/",
]
READABLE_WITH_RESPONSES_READ = {"/api/contacts/", "/api/responses/"}


def _as(who, request) -> APIClient:
    client = APIClient()
    if who in ("agent", "other_agent", "manager"):
        client.force_authenticate(request.getfixturevalue(who))
    elif who != "anonymous":
        raw = api_key_create(name=who, scopes=[who])[1]
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def manager_api(manager):
    client = APIClient()
    client.force_login(manager)
    return client


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "who", ["anonymous", "agent", "other_agent", "manager", *[scope for scope in ApiKey.Scope.values]]
)
def test_console_api_permission_cast(request, path, who):
    response = _as(who, request).get(path)
    allowed = who in ("manager", "admin") or (who == "responses:read" and path in READABLE_WITH_RESPONSES_READ)
    expected = 200 if allowed else (401 if who == "anonymous" else 403)
    assert response.status_code == expected, response.content


@pytest.mark.parametrize("who", ["responses:read", "agent"])
def test_console_api_writes_need_a_manager_or_the_admin_scope(request, who):
    response = _as(who, request).post("/api/surveys/", {"name": "X", "kind": "nps"}, format="json")
    assert response.status_code == 403
    assert Survey.objects.count() == 0


def test_survey_create_in_two_languages_with_a_conditional_question(manager_api, manager):
    body = {
        "name": "Support CSAT",
        "kind": "csat",
        "product_name": "Acme support",
        "question_text": {"en": "How was our help?", "fr": "Comment était notre aide ?"},
        "questions": [
            {
                "kind": "select_one",
                "text": {"en": "What went wrong?", "fr": "Qu'est-ce qui n'allait pas ?"},
                "choices": [{"value": "slow", "en": "Too slow", "fr": "Trop lent"}, {"value": "rude", "en": "Rude"}],
                "show_if_score_max": 2,
            }
        ],
    }
    response = manager_api.post("/api/surveys/", body, format="json")

    assert response.status_code == 201, response.json()
    survey = Survey.objects.get()
    assert survey.question("fr") == "Comment était notre aide ?"
    question = survey.questions.get()
    assert (question.applies_to(2), question.applies_to(3)) == (True, False)
    assert response.json()["questions"][0]["id"] == question.pk
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.object_type, entry.object_id) == (
        manager,
        "created",
        "survey",
        str(survey.pk),
    )
    assert entry.changes["question_text"] == [None, {"en": "How was our help?", "fr": "Comment était notre aide ?"}]


def test_survey_create_refuses_bad_input_field_by_field_and_writes_nothing(manager_api):
    body = {
        "name": "Bad",
        "kind": "csat",
        "question_text": {"de": "Wie war es?"},
        "questions": [{"kind": "select_one", "text": {"en": "Why?"}, "choices": [], "show_if_score_max": 9}],
    }
    response = manager_api.post("/api/surveys/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"question_text": ["Unknown locale de; use en, fr."]}
    body["question_text"] = {}
    response = manager_api.post("/api/surveys/", body, format="json")
    assert response.json()["errors"] == {
        "questions.0.choices": ["Give at least two options, each with a value."],
        "questions.0.show_if_score_max": ["Pick a score from 1 to 5."],
    }
    assert (Survey.objects.count(), Question.objects.count(), AuditEntry.objects.count()) == (0, 0, 0)


def test_survey_expiry_and_fatigue_windows_are_set_checked_field_by_field_and_cleared(manager_api):
    survey = SurveyFactory(kind="nps")

    refused = manager_api.patch(
        f"/api/surveys/{survey.pk}/", {"link_expiry_days": 0, "fatigue_global_days": 366}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "link_expiry_days": ["Give a number of days from 1 to 365, or leave it empty."],
        "fatigue_global_days": ["Give a number of days from 0 to 365, or leave it empty."],
    }
    late = manager_api.patch(
        f"/api/surveys/{survey.pk}/", {"link_expiry_days": 3, "reminder_after_days": 3}, format="json"
    )
    assert late.json()["errors"] == {
        "reminder_after_days": ["Remind before the links expire, after 3 days: give fewer days."]
    }

    body = {"link_expiry_days": 7, "fatigue_survey_days": 2, "fatigue_global_days": 0}
    response = manager_api.patch(f"/api/surveys/{survey.pk}/", body, format="json")
    assert response.status_code == 200, response.json()
    assert {name: response.json()[name] for name in body} == body
    assert AuditEntry.objects.get(action="updated").changes["fatigue_survey_days"] == [None, 2]
    cleared = manager_api.patch(f"/api/surveys/{survey.pk}/", {"fatigue_survey_days": None}, format="json")
    assert cleared.json()["fatigue_survey_days"] is None


def _conditional_questions(condition: dict) -> list[dict]:
    return [
        {"kind": "yes_no", "text": {"en": "Did it arrive complete?"}},
        {"kind": "free_text", "text": {"en": "What was missing?"}, "show_if_answer": condition},
    ]


def test_survey_question_asked_only_when_an_earlier_answer_is_one_of_a_list(manager_api):
    body = {"name": "Delivery", "kind": "csat", "questions": _conditional_questions({"question": 0, "values": ["no"]})}

    response = manager_api.post("/api/surveys/", body, format="json")

    assert response.status_code == 201, response.json()
    complete, missing = response.json()["questions"]
    assert (complete["kind"], complete["show_if_answer"]) == ("yes_no", None)
    assert missing["show_if_answer"] == {"question": 0, "values": ["no"]}
    assert Question.objects.get(pk=missing["id"]).follows({0: "no"}) is True
    copy = manager_api.post(f"/api/surveys/{response.json()['id']}/duplicate/")
    assert copy.json()["questions"][1]["show_if_answer"] == {"question": 0, "values": ["no"]}


@pytest.mark.parametrize(
    ("condition", "errors"),
    [
        (
            {"question": 1, "values": ["no"]},
            {"questions.1.show_if_answer.question": ["Pick a question asked before this one."]},
        ),
        (
            {"question": 0, "values": ["maybe"]},
            {"questions.1.show_if_answer.values": ["Pick one or more of question 1's answers: yes, no."]},
        ),
    ],
)
def test_survey_answer_condition_must_name_an_earlier_question_and_its_answers(manager_api, condition, errors):
    body = {"name": "Delivery", "kind": "csat", "questions": _conditional_questions(condition)}

    response = manager_api.post("/api/surveys/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert (Survey.objects.count(), Question.objects.count()) == (0, 0)


def test_survey_answer_condition_of_the_wrong_shape_is_a_400_on_it(manager_api):
    body = {"name": "Delivery", "kind": "csat", "questions": _conditional_questions({"question": -1, "values": []})}

    response = manager_api.post("/api/surveys/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "questions.1.show_if_answer.question": ["Ensure this value is greater than or equal to 0."],
        "questions.1.show_if_answer.values": ["Ensure this field has at least 1 elements."],
    }
    assert Survey.objects.count() == 0


def test_survey_texts_per_locale_with_a_default_language(manager_api):
    body = {
        "name": "Livraison",
        "kind": "csat",
        "default_locale": "fr",
        "question_text": {"fr": "Comment s'est passée la livraison ?"},
        "low_label": {"en": "Awful", "fr": "Affreux"},
        "high_label": {"fr": "Parfait"},
        "thank_you_text": {"en": "Thanks!", "fr": "Merci !"},
        "questions": [
            {
                "kind": "select_one",
                "text": {"fr": "Qu'est-ce qui n'allait pas ?"},
                "choices": [{"value": "late", "en": "Late", "fr": "En retard"}, {"value": "broken", "fr": "Cassé"}],
            }
        ],
    }

    response = manager_api.post("/api/surveys/", body, format="json")

    assert response.status_code == 201, response.json()
    assert {
        name: response.json()[name] for name in ("default_locale", "low_label", "high_label", "thank_you_text")
    } == {name: body[name] for name in ("default_locale", "low_label", "high_label", "thank_you_text")}
    survey = Survey.objects.get()
    assert survey.end_labels("en") == ("Awful", "Parfait")
    assert survey.thank_you("en") == "Thanks!"
    assert survey.questions.get().choice_labels("en") == [("late", "Late"), ("broken", "Cassé")]


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"default_locale": "de"}, {"default_locale": ['"de" is not a valid choice.']}),
        ({"low_label": {"de": "Schlecht"}}, {"low_label": ["Unknown locale de; use en, fr."]}),
        ({"high_label": {"fr": "x" * 101}}, {"high_label": ["Keep each language's text to 100 characters."]}),
        ({"thank_you_text": {"en": "x" * 501}}, {"thank_you_text": ["Keep each language's text to 500 characters."]}),
    ],
)
def test_survey_texts_per_locale_are_checked_field_by_field(manager_api, change, errors):
    survey = SurveyFactory(kind="csat")

    response = manager_api.patch(f"/api/surveys/{survey.pk}/", change, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == errors
    survey.refresh_from_db()
    assert (survey.default_locale, survey.low_label, survey.high_label, survey.thank_you_text) == ("en", {}, {}, {})


def test_survey_pause_edit_questions_and_duplicate(manager_api):
    survey = SurveyFactory(kind="nps", name="Delivery")
    kept = Question.objects.create(survey=survey, kind="free_text", text={"en": "Anything else?"})
    dropped = Question.objects.create(survey=survey, kind="free_text", text={"en": "Old"})

    response = manager_api.patch(
        f"/api/surveys/{survey.pk}/",
        {"is_active": False, "questions": [{"id": kept.pk, "kind": "free_text", "text": {"en": "Anything to add?"}}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["is_active"] is False
    assert [q["text"] for q in response.json()["questions"]] == [{"en": "Anything to add?"}]
    assert not Question.objects.filter(pk=dropped.pk).exists()
    entry = AuditEntry.objects.get(action="updated")
    assert entry.changes["is_active"] == [True, False]

    copy = manager_api.post(f"/api/surveys/{survey.pk}/duplicate/")
    assert copy.status_code == 201
    assert (copy.json()["name"], copy.json()["is_active"]) == ("Delivery (copy)", False)
    assert [q["text"] for q in copy.json()["questions"]] == [{"en": "Anything to add?"}]


def test_survey_update_keeps_an_answered_question(manager_api):
    response = ResponseFactory()
    question = Question.objects.create(survey=response.survey, kind="free_text", text={"en": "Why?"})
    Answer.objects.create(response=response, question=question, value="Because")

    answer = manager_api.patch(f"/api/surveys/{response.survey.pk}/", {"questions": []}, format="json")

    assert answer.status_code == 400
    assert answer.json()["errors"]["questions"] == [
        "A question that has answers cannot be removed; narrow who is asked it instead."
    ]
    assert Question.objects.filter(pk=question.pk).exists()


def test_responses_filter_and_cursor_pages(manager_api):
    survey = SurveyFactory(kind="nps")
    low = [ResponseFactory(invitation__survey=survey, score=2, comment="Late") for _ in range(3)]
    ResponseFactory(invitation__survey=survey, score=9)
    ResponseFactory(score=1)

    first = manager_api.get("/api/responses/", {"survey": survey.pk, "score_max": 6, "page_size": 2})

    assert first.status_code == 200
    assert [r["id"] for r in first.json()["results"]] == [low[2].pk, low[1].pk]
    assert first.json()["previous"] is None
    second = manager_api.get(first.json()["next"])
    assert [r["id"] for r in second.json()["results"]] == [low[0].pk]
    assert second.json()["next"] is None
    assert (
        manager_api.get("/api/responses/", {"has_comment": "false", "survey": survey.pk}).json()["results"][0]["score"]
        == 9
    )
    bad = manager_api.get("/api/responses/", {"since": "yesterday"})
    assert bad.status_code == 400
    assert list(bad.json()["errors"]) == ["since"]


def _key_client(scopes: list[str], survey=None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(name='k', scopes=scopes, survey=survey)[1]}")
    return client


@pytest.fixture
def two_surveys():
    """Survey 1's answer and contact, survey 2's answer and contact."""
    first, second = SurveyFactory(), SurveyFactory()
    theirs = ResponseFactory(invitation__survey=first, score=0, comment="Survey one's")
    ours = ResponseFactory(invitation__survey=second, score=9)
    return first, second, theirs, ours


@pytest.mark.parametrize("scope", ["responses:read", "admin"])
def test_a_key_bound_to_a_survey_reads_only_that_survey_s_responses(two_surveys, scope):
    first, second, theirs, ours = two_surveys
    client = _key_client([scope], survey=second)

    assert [r["id"] for r in client.get("/api/responses/").json()["results"]] == [ours.pk]
    assert client.get(f"/api/responses/{ours.pk}/").status_code == 200
    assert client.get(f"/api/responses/{theirs.pk}/").status_code == 404
    # No parameter widens it: each filter narrows within the key's survey.
    for query in (
        {"survey": first.pk},
        {"contact": theirs.contact_id},
        {"score_max": 0},
        {"has_comment": "true"},
        {"survey": first.pk, "contact": theirs.contact_id},
    ):
        response = client.get("/api/responses/", query)
        assert (response.status_code, response.json()["results"]) == (200, []), query
    assert [r["id"] for r in client.get("/api/responses/", {"survey": second.pk}).json()["results"]] == [ours.pk]


@pytest.mark.parametrize("scope", ["responses:read", "admin"])
def test_a_key_bound_to_a_survey_reads_only_the_people_invited_to_it(two_surveys, scope):
    _, second, theirs, ours = two_surveys
    client = _key_client([scope], survey=second)

    assert [c["id"] for c in client.get("/api/contacts/").json()["results"]] == [ours.contact_id]
    assert client.get(f"/api/contacts/{ours.contact_id}/").status_code == 200
    assert client.get(f"/api/contacts/{theirs.contact_id}/").status_code == 404
    assert client.get("/api/contacts/", {"email": theirs.contact.email}).json()["results"] == []


def test_an_admin_key_bound_to_a_survey_erases_and_exports_only_the_people_invited_to_it(two_surveys):
    _, second, theirs, ours = two_surveys
    client = _key_client(["admin"], survey=second)

    assert client.get(f"/api/contacts/{theirs.contact_id}/export/").status_code == 404
    assert client.delete(f"/api/contacts/{theirs.contact_id}/").status_code == 404
    assert Contact.objects.get(pk=theirs.contact_id).erased_at is None
    assert client.get(f"/api/contacts/{ours.contact_id}/export/").status_code == 200
    assert client.delete(f"/api/contacts/{ours.contact_id}/").status_code == 200


def test_a_key_bound_to_no_survey_and_a_manager_read_every_survey(two_surveys, manager_api):
    _, _, theirs, ours = two_surveys
    for client in (_key_client(["responses:read"]), manager_api):
        assert [r["id"] for r in client.get("/api/responses/").json()["results"]] == [ours.pk, theirs.pk]
        assert {c["id"] for c in client.get("/api/contacts/").json()["results"]} == {
            ours.contact_id,
            theirs.contact_id,
        }


@pytest.mark.parametrize("n", [1, 25])
def test_responses_list_query_count_is_flat(manager, django_assert_num_queries, n):
    for _ in range(n):
        ResponseFactory()
    client = APIClient()
    client.force_authenticate(manager)
    # responses page; their answers.
    with django_assert_num_queries(2):
        assert len(client.get("/api/responses/").json()["results"]) == n


@pytest.mark.parametrize("n", [1, 25])
def test_surveys_list_query_count_is_flat(manager, django_assert_num_queries, n):
    for _ in range(n):
        Question.objects.create(survey=SurveyFactory(), kind="free_text", text={"en": "Why?"})
    client = APIClient()
    client.force_authenticate(manager)
    with django_assert_num_queries(2):
        assert len(client.get("/api/surveys/").json()["results"]) == n


def test_contacts_filter_by_email(manager_api):
    ContactFactory(email="ann@example.com")
    ContactFactory(email="bob@example.com")
    results = manager_api.get("/api/contacts/", {"email": "ANN@example.com"}).json()["results"]
    assert [contact["email"] for contact in results] == ["ann@example.com"]


@pytest.mark.parametrize(
    "who", ["anonymous", "agent", "manager", *[scope for scope in ApiKey.Scope.values]]
)  # fmt: skip
def test_contact_erase_and_export_are_for_managers_and_admin_keys(request, who):
    contact = ContactFactory(email="ann@example.com")
    client = _as(who, request)

    exported = client.get(f"/api/contacts/{contact.pk}/export/")
    erased = client.delete(f"/api/contacts/{contact.pk}/")

    expected = 200 if who in ("manager", "admin") else (401 if who == "anonymous" else 403)
    assert (exported.status_code, erased.status_code) == (expected, expected)
    assert Contact.objects.get(pk=contact.pk).email == ("" if expected == 200 else "ann@example.com")
    assert AuditEntry.objects.filter(object_type="contact").count() == (2 if expected == 200 else 0)


def test_contact_erase_keeps_anonymous_scores_and_answers_what_it_did(manager_api, manager):
    response = ResponseFactory(
        invitation__contact=ContactFactory(email="ann@example.com", name="Ann"), comment="Ann: too slow"
    )

    erased = manager_api.delete(f"/api/contacts/{response.contact_id}/?suppress=true")

    assert erased.status_code == 200
    assert erased.json() == {
        "contact": response.contact_id,
        "mode": "anonymised",
        "rows": {
            "answers kept as anonymous scores": 1,
            "comments": 1,
            "contacts": 1,
            "invitations": 1,
            "suppressions kept as hashes": 1,
        },
    }
    response.refresh_from_db()
    assert (response.score, response.comment) == (3, "")
    contact = manager_api.get(f"/api/contacts/{response.contact_id}/").json()
    assert (contact["email"], contact["name"], contact["erased_at"] is not None) == ("", "", True)
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.object_repr) == (manager, "erased", f"contact {response.contact_id}")
    assert entry.changes["comments"] == [None, 1]


def test_contact_hard_erase_deletes_the_answers(manager_api):
    response = ResponseFactory()

    erased = manager_api.delete(f"/api/contacts/{response.contact_id}/?hard=true")

    assert (erased.status_code, erased.json()["mode"], erased.json()["rows"]["responses"]) == (200, "hard", 1)
    assert not Contact.objects.filter(pk=response.contact_id).exists()
    assert manager_api.get(f"/api/contacts/{response.contact_id}/").status_code == 404


def test_contact_erase_with_a_bad_flag_is_a_400_naming_it_and_erases_nothing(manager_api):
    contact = ContactFactory(email="ann@example.com")

    refused = manager_api.delete(f"/api/contacts/{contact.pk}/?hard=perhaps")

    assert refused.status_code == 400
    assert refused.json()["errors"] == {"hard": ["Must be a valid boolean."]}
    assert Contact.objects.get(pk=contact.pk).email == "ann@example.com"
    assert not AuditEntry.objects.exists()


def test_contact_erase_and_export_of_an_unknown_contact_are_404(manager_api):
    assert manager_api.delete("/api/contacts/999999/").status_code == 404
    assert manager_api.get("/api/contacts/999999/export/").status_code == 404
    assert manager_api.get("/api/contacts/99999999999999999999/export/").status_code == 404


def test_contact_export_is_a_json_attachment_of_everything_about_them(manager_api):
    response = ResponseFactory(
        invitation__contact=ContactFactory(email="ann@example.com", name="Ann"), comment="Too slow"
    )

    exported = manager_api.get(f"/api/contacts/{response.contact_id}/export/")

    assert exported.status_code == 200
    assert exported["Content-Disposition"] == f'attachment; filename="contact-{response.contact_id}.json"'
    data = exported.json()
    assert (data["contact"]["email"], data["contact"]["name"]) == ("ann@example.com", "Ann")
    assert [(r["score"], r["comment"]) for r in data["responses"]] == [(3, "Too slow")]
    assert data["cases"] == [] and data["messages"] == []
    assert AuditEntry.objects.get().action == "exported"


def test_api_key_is_shown_once_scoped_revoked_and_used(manager_api):
    survey = SurveyFactory()
    created = manager_api.post(
        "/api/api-keys/", {"name": "Shop", "scopes": ["events:write"], "survey": survey.pk}, format="json"
    )

    assert created.status_code == 201
    raw = created.json()["key"]
    key_id = created.json()["id"]
    assert raw.startswith(created.json()["prefix"])
    listed = manager_api.get("/api/api-keys/").json()
    assert all("key" not in item for item in listed) and listed[0]["last_used_at"] is None
    assert "key" not in manager_api.get(f"/api/api-keys/{key_id}/").json()
    assert raw not in str(AuditEntry.objects.values_list("changes", flat=True))

    shop = APIClient()
    shop.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert shop.get("/api/surveys/").status_code == 403
    assert manager_api.get(f"/api/api-keys/{key_id}/").json()["last_used_at"] is not None

    revoked = manager_api.post(f"/api/api-keys/{key_id}/revoke/")
    assert revoked.json()["revoked_at"] is not None
    assert shop.get("/api/surveys/").status_code == 401
    assert list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)) == ["created", "revoked"]


def test_api_keys_list_their_staged_batches_waiting_and_failed(manager_api):
    shop, _ = api_key_create(name="Shop")
    api_key_create(name="Quiet")
    oldest = timezone.now() - timedelta(minutes=3)
    for status, accepted_at in [
        (EventBatch.Status.ACCEPTED, oldest),
        (EventBatch.Status.FAILED, oldest),
        (EventBatch.Status.EXPANDED, oldest),
    ]:
        EventBatch.objects.create(api_key=shop, size=1, events=[], status=status, accepted_at=accepted_at)

    listed = {item["name"]: item for item in manager_api.get("/api/api-keys/").json()}

    batches = ("batches_waiting", "batches_waiting_since", "batches_failed")
    assert [listed["Shop"][field] for field in batches] == [1, oldest.isoformat().replace("+00:00", "Z"), 1]
    assert [listed["Quiet"][field] for field in batches] == [0, None, 0]
    assert manager_api.get(f"/api/api-keys/{shop.pk}/").json()["batches_waiting"] == 1


def test_api_key_create_refuses_unknown_scopes(manager_api):
    response = manager_api.post("/api/api-keys/", {"name": "X", "scopes": ["everything"]}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["scopes.0"]
    assert ApiKey.objects.count() == 0


def test_user_invite_emails_a_set_password_link_that_works(
    manager_api, outbox, client, django_capture_on_commit_callbacks
):
    team = TeamFactory(name="Care")
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_api.post(
            "/api/users/", {"email": "New.Agent@Example.com", "role": "agent", "team": team.pk}, format="json"
        )

    assert response.status_code == 201, response.json()
    user = User.objects.get(email="new.agent@example.com")
    assert not user.has_usable_password()
    assert [message.recipient for message in outbox] == ["new.agent@example.com"]
    link = next(line for line in outbox[0].body_text.splitlines() if "/accounts/reset/" in line).strip()
    path = link.split("127.0.0.1:8000", 1)[-1] if "127.0.0.1" in link else link[link.index("/accounts/") :]
    form = client.get(path, follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a long new password", "new_password2": "a long new password"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a long new password")


def test_user_invite_refuses_a_taken_email_and_a_manager_cannot_demote_themself(manager_api, manager):
    UserFactory(email="taken@example.com")
    taken = manager_api.post("/api/users/", {"email": "TAKEN@example.com", "role": "agent"}, format="json")
    assert taken.status_code == 400
    assert taken.json()["errors"] == {"email": ["Someone already signs in as taken@example.com."]}
    self_demote = manager_api.patch(f"/api/users/{manager.pk}/", {"role": "agent"}, format="json")
    assert self_demote.status_code == 400
    manager.refresh_from_db()
    assert manager.role == "manager"


def test_user_deactivate_is_audited(manager_api, agent):
    response = manager_api.patch(f"/api/users/{agent.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200
    entry = AuditEntry.objects.get()
    assert (entry.object_type, entry.changes) == ("user", {"is_active": [True, False]})


def test_a_manager_sets_someones_language_and_it_is_audited(manager_api, agent):
    response = manager_api.patch(f"/api/users/{agent.pk}/", {"language": "fr"}, format="json")

    assert response.status_code == 200
    assert response.json()["language"] == "fr"
    agent.refresh_from_db()
    assert agent.language == "fr"
    entry = AuditEntry.objects.get()
    assert entry.changes == {"language": ["", "fr"]}


def test_an_unknown_language_is_a_field_error_and_changes_nothing(manager_api, agent):
    response = manager_api.patch(f"/api/users/{agent.pk}/", {"language": "de"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"language": ['"de" is not a valid choice.']}
    agent.refresh_from_db()
    assert agent.language == ""
    assert not AuditEntry.objects.exists()


def test_an_invitation_may_carry_the_newcomers_language(manager_api, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_api.post(
            "/api/users/", {"email": "lea@example.com", "role": "agent", "language": "fr"}, format="json"
        )

    assert response.status_code == 201, response.json()
    assert User.objects.get(email="lea@example.com").language == "fr"
    assert outbox[0].subject == "Vous êtes invité sur Closeloop"
    assert outbox[0].body_text.startswith(
        "Bonjour,\n\nmanager@closeloop.test vous a invité sur Closeloop avec le rôle agent.\n"
    )


def test_routing_rule_checks_scores_and_team(manager_api):
    survey = SurveyFactory(kind="csat")
    response = manager_api.post(
        "/api/routing-rules/",
        {"survey": survey.pk, "score_min": 0, "score_max": 9, "opens_follow_up": True},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "score_min": ["Pick a score from 1 to 5."],
        "score_max": ["Pick a score from 1 to 5."],
        "team": ["A rule that opens follow-ups needs a team."],
    }
    assert RoutingRule.objects.count() == 0
    team = TeamFactory()
    created = manager_api.post(
        "/api/routing-rules/", {"survey": survey.pk, "score_max": 2, "team": team.pk, "position": 1}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert manager_api.get("/api/audit-trail/").json()["results"][0]["object_type"] == "routingrule"


def test_routing_rule_of_an_unknown_kind_is_a_400_on_kind(manager_api):
    response = manager_api.post("/api/routing-rules/", {"kind": "Passer", "score_min": 300}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["kind"] == [f"Pick one of {', '.join(SCALES)}."]
    assert RoutingRule.objects.count() == 0


def test_team_calendar_and_members(manager_api, agent):
    response = manager_api.post(
        "/api/teams/",
        {
            "name": "Night shift",
            "time_zone": "Europe/Paris",
            "working_days": "4,0,1",
            "holidays": ["2026-12-25"],
            "members": [agent.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["working_days"], response.json()["members"]) == ("0,1,4", [agent.pk])
    agent.refresh_from_db()
    assert agent.team.name == "Night shift"
    bad = manager_api.post("/api/teams/", {"name": "X", "time_zone": "Mars/Base", "working_days": "8"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"time_zone", "working_days"}


def test_responses_carry_and_filter_on_language_sentiment_and_themes(manager_api):
    from django.utils import timezone

    now = timezone.now()
    late = ResponseFactory(
        comment="Colis en retard", language="fr", sentiment="negative", sentiment_confidence=0.81,
        themes=["delivery", "customer_service"], analysed_at=now,
    )  # fmt: skip
    price = ResponseFactory(
        comment="Too pricey", language="en", sentiment="negative", sentiment_confidence=0.7, themes=["price"],
        analysed_at=now,
    )  # fmt: skip
    other = ResponseFactory(comment="Love it", language="en", sentiment="positive", themes=[], analysed_at=now)
    unread = ResponseFactory(comment="Just arrived")

    def ids(**query):
        response = manager_api.get("/api/responses/", query)
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    body = manager_api.get(f"/api/responses/{late.pk}/").json()
    assert (body["language"], body["sentiment"], body["sentiment_confidence"], body["themes"]) == (
        "fr",
        "negative",
        0.81,
        ["delivery", "customer_service"],
    )
    assert manager_api.get(f"/api/responses/{unread.pk}/").json()["sentiment"] is None
    assert ids(theme="delivery") == [late.pk]
    assert ids(theme="customer_service", language="fr") == [late.pk]
    assert ids(sentiment="negative") == [price.pk, late.pk]
    assert ids(theme="other") == [other.pk]
    assert ids(language="en", sentiment="positive") == [other.pk]
    assert ids(theme="deliver") == []  # a slug is matched whole
    bad = manager_api.get("/api/responses/", {"theme": "Bad Slug", "sentiment": "angry"})
    assert bad.status_code == 400
    assert sorted(bad.json()["errors"]) == ["sentiment", "theme"]


def test_branding_api_workspace_and_survey(manager_api):
    survey = SurveyFactory()
    assert (
        manager_api.patch("/api/branding/", {"sender_name": "Acme", "brand_color": "#1F4FD1"}, format="json").json()[
            "brand_color"
        ]
        == "#1f4fd1"
    )
    refused = manager_api.patch(f"/api/surveys/{survey.pk}/branding/", {"brand_color": "#eeeeee"}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["brand_color"]
    own = manager_api.patch(f"/api/surveys/{survey.pk}/branding/", {"sender_name": "Acme Support"}, format="json")
    assert own.json()["sender_name"] == "Acme Support"
    assert manager_api.get("/api/branding/").json()["sender_name"] == "Acme"


def test_team_and_routing_rule_delete_are_audited(manager_api):
    team = TeamFactory()
    rule = RoutingRule.objects.create(survey=SurveyFactory(), score_max=2, team=team, position=1)
    response = manager_api.delete(f"/api/routing-rules/{rule.pk}/")
    assert response.status_code == 204
    assert not RoutingRule.objects.filter(pk=rule.pk).exists()
    response = manager_api.delete(f"/api/teams/{team.pk}/")
    assert response.status_code == 204
    assert list(AuditEntry.objects.filter(action="deleted").values_list("object_type", flat=True).order_by("pk")) == [
        "routingrule",
        "team",
    ]


def test_widget_key_is_created_listed_with_its_snippet_changed_and_revoked(manager_api):
    survey = SurveyFactory()
    created = manager_api.post(
        "/api/publishable-keys/",
        {"name": "App", "survey": survey.pk, "allowed_origins": ["https://App.example.com/"]},
        format="json",
    )

    assert created.status_code == 201
    body = created.json()
    key = PublishableKey.objects.get()
    assert body["key"] == key.key and body["allowed_origins"] == ["https://app.example.com"]
    assert (body["sample_factor"], body["recurring_period_days"]) == (1.0, 90)
    assert body["snippet"] == f'<script src="http://testserver/web/snippet.js" data-key="{key.key}"></script>'
    assert manager_api.get("/api/publishable-keys/").json()[0]["key"] == key.key
    changed = manager_api.patch(
        f"/api/publishable-keys/{key.pk}/", {"allowed_origins": ["http://127.0.0.1:8080"]}, format="json"
    )
    assert changed.json()["allowed_origins"] == ["http://127.0.0.1:8080"]
    assert manager_api.post(f"/api/publishable-keys/{key.pk}/revoke/").json()["revoked_at"] is not None
    assert list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)) == ["created", "updated", "revoked"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"allowed_origins": []}, "allowed_origins"),
        ({"allowed_origins": ["https://a.example/path"]}, "allowed_origins"),
        ({"sample_factor": 2}, "sample_factor"),
        ({"survey": None}, "survey"),
        ({"name": ""}, "name"),
    ],
)
def test_widget_key_create_names_the_bad_field_and_writes_nothing(manager_api, body, field):
    data = {"name": "App", "survey": SurveyFactory().pk, "allowed_origins": ["https://a.example"]} | body

    response = manager_api.post("/api/publishable-keys/", data, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert PublishableKey.objects.count() == 0


def test_trigger_rule_writes_through_the_api_are_in_the_audit_trail():
    survey = SurveyFactory()
    key, raw = api_key_create(name="Shop", scopes=["admin"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    label = f"API key Shop ({key.prefix}…)"

    created = client.post(
        "/api/trigger-rules/",
        {"event_type": "order_delivered", "survey": survey.pk, "delay_seconds": 3600},
        format="json",
    )
    rule_id = created.json()["id"]
    patched = client.patch(f"/api/trigger-rules/{rule_id}/", {"delay_seconds": 60, "is_active": False}, format="json")
    unchanged = client.patch(f"/api/trigger-rules/{rule_id}/", {"delay_seconds": 60}, format="json")
    refused = client.patch(f"/api/trigger-rules/{rule_id}/", {"sample_rate": 2}, format="json")
    deleted = client.delete(f"/api/trigger-rules/{rule_id}/")

    assert [r.status_code for r in (created, patched, unchanged, refused, deleted)] == [201, 200, 200, 400, 204]
    entries = list(AuditEntry.objects.order_by("pk"))
    assert [(e.action, e.object_type, e.object_id, e.actor, e.actor_label) for e in entries] == [
        ("created", "triggerrule", str(rule_id), None, label),
        ("updated", "triggerrule", str(rule_id), None, label),
        ("deleted", "triggerrule", str(rule_id), None, label),
    ]
    assert entries[0].changes == {
        "cancel_on_event_types": [None, []],
        "channel": [None, "email"],
        "conditions": [None, []],
        "delay": [None, 3600.0],
        "event_type": [None, "order_delivered"],
        "is_active": [None, True],
        "match_property": [None, "ticket_id"],
        "sample_rate": [None, 1.0],
        "survey": [None, survey.pk],
    }
    assert entries[1].changes == {"delay": [3600.0, 60.0], "is_active": [True, False]}
    assert entries[2].changes["event_type"] == ["order_delivered", None]
    assert raw not in str(AuditEntry.objects.values_list("actor_label", "changes"))


def test_survey_link_is_created_shown_in_the_survey_and_changed_with_its_audit(request):
    survey = SurveyFactory(name="Store CSAT")
    admin = _as("admin", request)
    assert admin.get(f"/api/surveys/{survey.pk}/").json()["public_link"] is None
    assert admin.get(f"/api/surveys/{survey.pk}/link/").status_code == 404

    created = admin.patch(f"/api/surveys/{survey.pk}/link/", {"kiosk_enabled": True}, format="json")
    assert created.status_code == 201
    slug = created.json()["slug"]
    assert re.fullmatch(r"store-csat-[0-9a-f]{6}", slug)
    base = f"http://testserver/l/{slug}/"
    expected = {
        "slug": slug, "is_enabled": True, "kiosk_enabled": True, "ask_contact": True, "url": base,
        "kiosk_url": f"{base}?kiosk=1", "qr_svg_url": f"{base}qr.svg", "qr_png_url": f"{base}qr.png",
    }  # fmt: skip
    assert created.json() == expected
    assert admin.get(f"/api/surveys/{survey.pk}/").json()["public_link"] == expected

    changed = admin.patch(f"/api/surveys/{survey.pk}/link/", {"slug": "store-7", "is_enabled": False}, format="json")
    assert (changed.status_code, changed.json()["url"], changed.json()["is_enabled"]) == (
        200, "http://testserver/l/store-7/", False
    )  # fmt: skip
    entries = AuditEntry.objects.filter(object_type="surveylink").order_by("pk")
    assert [(entry.action, entry.changes) for entry in entries][-1] == (
        "updated", {"is_enabled": [True, False], "slug": [slug, "store-7"]}
    )  # fmt: skip


def test_survey_link_bad_input_is_field_level_and_changes_nothing(request):
    taken = SurveyFactory()
    admin = _as("admin", request)
    admin.patch(f"/api/surveys/{taken.pk}/link/", {"slug": "store-7"}, format="json")
    survey = SurveyFactory()
    clash = admin.patch(f"/api/surveys/{survey.pk}/link/", {"slug": "store-7"}, format="json")
    assert (clash.status_code, clash.json()["errors"]) == (
        400,
        {"slug": ["Another survey's link already uses this name."]},
    )
    short = admin.patch(f"/api/surveys/{survey.pk}/link/", {"slug": "ab"}, format="json")
    assert short.json()["errors"] == {
        "slug": ["Use 3 to 40 lowercase letters, digits and hyphens, starting and ending with a letter or digit."]
    }
    not_bool = admin.patch(f"/api/surveys/{survey.pk}/link/", {"kiosk_enabled": "maybe"}, format="json")
    assert (not_bool.status_code, list(not_bool.json()["errors"])) == (400, ["kiosk_enabled"])
    fix_check = SurveyFactory(is_fix_check=True)
    refused = admin.patch(f"/api/surveys/{fix_check.pk}/link/", {}, format="json")
    assert refused.json()["errors"] == {
        "survey": ['A "did we fix it?" survey is answered from its case, not a public link.']
    }
    assert list(SurveyLink.objects.values_list("slug", flat=True)) == ["store-7"]


@pytest.mark.parametrize("who", ["responses:read", "agent", "anonymous"])
def test_survey_link_needs_a_manager_or_the_admin_scope(request, who):
    survey = SurveyFactory()
    response = _as(who, request).patch(f"/api/surveys/{survey.pk}/link/", {}, format="json")
    assert response.status_code == (401 if who == "anonymous" else 403)
    assert not SurveyLink.objects.exists()


def test_routing_rule_dry_run_answers_each_rule_s_checks_and_stores_nothing(manager_api):
    survey = SurveyFactory(kind="nps")
    billing = TeamFactory(name="Billing")
    refunds = RoutingRule.objects.create(position=1, team=billing, theme="billing_refund", sla_hours=8)
    later = RoutingRule.objects.create(position=2, team=billing, score_min=0, score_max=10)

    response = manager_api.post(
        "/api/routing-rules/dry-run/",
        {"survey": survey.pk, "score": 4, "comment": "Charged twice", "themes": ["billing_refund"]},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {
        "decided_by": refunds.pk,
        "opens_follow_up": True,
        "summary": "Rule #1 decides: it opens a case for Billing (normal priority, SLA 8 h).",
        "rules": [
            {
                "rule": refunds.pk,
                "position": 1,
                "matches": True,
                "decides": True,
                "outcome": "opens a case for Billing (normal priority, SLA 8 h)",
                "checks": [
                    {"condition": "the rule is on", "holds": True},
                    {"condition": "the answer is unhappy (a detractor's)", "holds": True},
                    {"condition": "comment is about billing_refund", "holds": True},
                ],
            },
            {
                "rule": later.pk,
                "position": 2,
                "matches": True,
                "decides": False,
                "outcome": "opens a case for Billing (normal priority, SLA 24 h)",
                "checks": [
                    {"condition": "the rule is on", "holds": True},
                    {"condition": "score is 0–10", "holds": True},
                ],
            },
        ],
    }
    assert (AuditEntry.objects.count(), RoutingRule.objects.count()) == (0, 2)
    none = manager_api.post("/api/routing-rules/dry-run/", {"survey": survey.pk, "score": 9}, format="json").json()
    assert (none["decided_by"], none["opens_follow_up"]) == (later.pk, True)


def test_routing_rule_dry_run_bad_input_is_400_per_field(manager_api):
    survey = SurveyFactory(kind="csat")
    bad = manager_api.post(
        "/api/routing-rules/dry-run/",
        {"survey": 999, "score": "high", "themes": ["Not A Slug"], "sentiment": "angry", "contact_properties": [1]},
        format="json",
    )
    assert bad.status_code == 400
    assert sorted(bad.json()["errors"]) == ["contact_properties", "score", "sentiment", "survey", "themes.0"]
    off_scale = manager_api.post("/api/routing-rules/dry-run/", {"survey": survey.pk, "score": 9}, format="json")
    assert (off_scale.status_code, off_scale.json()["errors"]) == (
        400,
        {"score": ["Give a score from 1 to 5 for this survey."]},
    )


@pytest.mark.parametrize(("scopes", "status"), [(["admin"], 200), (["responses:read"], 403)])
def test_routing_rule_dry_run_needs_a_manager_or_the_admin_scope(scopes, status):
    survey = SurveyFactory(kind="nps")
    response = _key_client(scopes).post("/api/routing-rules/dry-run/", {"survey": survey.pk, "score": 1}, format="json")
    assert response.status_code == status


def test_canned_replies_crud_through_the_api_with_its_audit(manager_api, manager):
    care, billing = TeamFactory(name="Care"), TeamFactory(name="Billing")
    body = {"team": care.pk, "locale": "fr", "title": "Retard", "body": "Bonjour {first_name}, votre colis {order_id}…"}

    created = manager_api.post("/api/canned-replies/", body, format="json")
    reply_id = created.json()["id"]
    manager_api.post("/api/canned-replies/", {**body, "team": billing.pk, "title": "Facture"}, format="json")
    patched = manager_api.patch(f"/api/canned-replies/{reply_id}/", {"is_active": False}, format="json")
    listed = manager_api.get("/api/canned-replies/", {"team": care.pk})
    deleted = manager_api.delete(f"/api/canned-replies/{reply_id}/")

    assert created.status_code == 201
    assert {k: v for k, v in created.json().items() if k not in ("id", "created_at")} == {**body, "is_active": True}
    assert (patched.status_code, patched.json()["is_active"], patched.json()["title"]) == (200, False, "Retard")
    assert [r["id"] for r in listed.json()] == [reply_id]
    assert deleted.status_code == 204
    assert list(CannedReply.objects.values_list("title", flat=True)) == ["Facture"]
    entries = AuditEntry.objects.filter(object_type="cannedreply", object_id=str(reply_id)).order_by("pk")
    assert [(e.action, e.actor, e.changes) for e in entries] == [
        ("created", manager, {"body": [None, body["body"]], "is_active": [None, True], "locale": [None, "fr"],
                              "team": [None, care.pk], "title": [None, "Retard"]}),
        ("updated", manager, {"is_active": [True, False]}),
        ("deleted", manager, {"body": [body["body"], None], "is_active": [False, None], "locale": ["fr", None],
                              "team": [care.pk, None], "title": ["Retard", None]}),
    ]  # fmt: skip


def test_canned_reply_bad_input_is_400_per_field_and_stores_nothing(manager_api):
    care = TeamFactory(name="Care")
    CannedReply.objects.create(team=care, locale="en", title="Late parcel", body="Sorry!")

    clash = manager_api.post(
        "/api/canned-replies/", {"team": care.pk, "locale": "en", "title": "LATE PARCEL", "body": "x"}, format="json"
    )
    bad = manager_api.post(
        "/api/canned-replies/", {"team": 999, "locale": "de", "title": "", "body": "x" * 1601}, format="json"
    )
    blank = manager_api.post("/api/canned-replies/", {"team": care.pk, "title": "Empty", "body": "   "}, format="json")

    assert (clash.status_code, clash.json()["errors"]) == (
        400,
        {"title": ["Team Care already has a en reply titled LATE PARCEL."]},
    )
    assert bad.status_code == 400
    assert sorted(bad.json()["errors"]) == ["body", "locale", "team", "title"]
    assert (blank.status_code, blank.json()["errors"]) == (400, {"body": ["This field may not be blank."]})
    assert manager_api.get("/api/canned-replies/", {"team": "x"}).status_code == 400
    assert (CannedReply.objects.count(), AuditEntry.objects.count()) == (1, 0)


def test_team_assignment_strategy_is_checked_on_its_field_and_audited(manager_api):
    team = TeamFactory(name="Care")

    refused = manager_api.patch(f"/api/teams/{team.pk}/", {"assignment": "random"}, format="json")
    changed = manager_api.patch(f"/api/teams/{team.pk}/", {"assignment": "queue"}, format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"] == {"assignment": ['"random" is not a valid choice.']}
    assert (changed.status_code, changed.json()["assignment"]) == (200, "queue")
    entry = AuditEntry.objects.get(object_type="team")
    assert entry.changes == {"assignment": ["least_open", "queue"]}


def test_user_away_through_the_api(manager_api, agent):
    response = manager_api.patch(f"/api/users/{agent.pk}/", {"is_away": True}, format="json")

    assert (response.status_code, response.json()["is_away"]) == (200, True)
    assert AuditEntry.objects.get().changes == {"is_away": [False, True]}


@pytest.fixture
def fake_slack(settings):
    fake = FakeSlack([slack_channel(1, "care-escalations"), slack_channel(2, "billing", private=True)]).start()
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.SLACK_API_BASE_URL = fake.api_url
    settings.SLACK_BOT_TOKEN = SLACK_TOKEN
    yield fake
    fake.stop()


def test_slack_channels_lists_what_slack_lists(manager_api, fake_slack):
    response = manager_api.get("/api/slack-channels/")

    assert response.status_code == 200
    assert response.json() == {
        "channels": [
            {"id": "C00000002", "name": "billing", "is_private": True},
            {"id": "C00000001", "name": "care-escalations", "is_private": False},
        ]
    }


def test_slack_channels_without_a_bot_token_is_a_409_saying_why(manager_api):
    response = manager_api.get("/api/slack-channels/")

    assert response.status_code == 409
    assert response.json()["detail"] == (
        "Closeloop lists Slack channels with a bot token (SLACK_BOT_TOKEN), and none is set."
    )


def test_team_slack_channel_must_be_one_slack_lists(manager_api, fake_slack):
    team = TeamFactory(name="Care")

    unknown = manager_api.patch(f"/api/teams/{team.pk}/", {"slack_channel_id": "C99999999"}, format="json")
    picked = manager_api.patch(f"/api/teams/{team.pk}/", {"slack_channel_id": "C00000002"}, format="json")

    assert unknown.status_code == 400
    assert unknown.json()["errors"] == {
        "slack_channel_id": [
            "Slack lists no such channel for the bot: invite the bot to a private channel, then pick it."
        ]
    }
    assert (picked.status_code, picked.json()["slack_channel_name"]) == (200, "billing")


def test_team_slack_channel_without_a_bot_token_is_refused_on_its_field(manager_api):
    team = TeamFactory(name="Care")

    response = manager_api.patch(f"/api/teams/{team.pk}/", {"slack_channel_id": "C00000001"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["slack_channel_id"]
    team.refresh_from_db()
    assert team.slack_channel_id == ""


def test_slack_channels_are_for_managers_only(request):
    assert _as("agent", request).get("/api/slack-channels/").status_code == 403
    assert _as("anonymous", request).get("/api/slack-channels/").status_code == 401


def test_user_invite_as_a_form_post_is_created_able_to_sign_in_and_not_away(manager_api):
    # A form post carries every boolean left out as false (DRF reads HTML forms so).
    response = manager_api.post("/api/users/", {"email": "ann@example.com", "role": "agent"})

    assert response.status_code == 201, response.json()
    assert (response.json()["is_active"], response.json()["is_away"]) == (True, False)


def test_the_api_refuses_in_english_the_change_the_console_refuses_in_french(client):
    """The console's checks are translated where they are written, in console.services; the API calls the same
    writes and still answers in English to a French-speaking manager's session or a French browser."""
    french = APIClient()
    french.force_login(ManagerFactory(email="chef@closeloop.test", language="fr"))
    client.force_login(ManagerFactory(email="cheffe@closeloop.test", language="fr"))
    night = {"name": "Nuit", "time_zone": "Europe/Paris", "opens_at": "18:00", "closes_at": "08:00"}

    api = french.post("/api/teams/", night, format="json", HTTP_ACCEPT_LANGUAGE="fr")
    page = client.post("/settings/teams/new/", {**night, "sla_hours": 24, "working_days": "0", "assignment": "queue"})

    assert (api.status_code, api.json()["errors"]) == (400, {"closes_at": ["The team must close after it opens."]})
    assert "L&#x27;équipe doit fermer après son ouverture." in page.content.decode()
