import re
from datetime import timedelta

import pytest
from django.utils import timezone

from console.models import AuditEntry
from feedback.models import CannedReply, RoutingRule, Team, User
from surveys.models import ApiKey, EventBatch, PublishableKey, Survey, SurveyLink, TriggerRule
from surveys.services.api_keys import api_key_create
from tests.factories import ManagerFactory, SurveyFactory, SurveyLinkFactory, TeamFactory, TriggerRuleFactory
from tests.fakes.slack import TOKEN as SLACK_TOKEN
from tests.fakes.slack import FakeSlack, slack_channel

pytestmark = pytest.mark.django_db

PAGES = [
    "/settings/",
    "/settings/surveys/",
    "/settings/surveys/new/",
    "/settings/trigger-rules/",
    "/settings/trigger-rules/new/",
    "/settings/routing-rules/",
    "/settings/routing-rules/new/",
    "/settings/teams/",
    "/settings/teams/new/",
    "/settings/root-causes/new/",
    "/settings/people/",
    "/settings/api-keys/",
    "/settings/web-widget/",
    "/settings/connectors/",
    "/settings/connectors/new/",
    "/settings/audit-trail/",
    "/settings/branding/",
    "/settings/trigger-rules/dry-run/",
    "/settings/routing-rules/dry-run/",
    "/settings/canned-replies/",
    "/settings/canned-replies/new/",
    "/settings/webhooks/",
    "/settings/webhooks/new/",
]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("who", ["anonymous", "agent", "other_agent", "manager"])
def test_console_permission_cast(client, request, path, who):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    response = client.get(path)
    if who == "anonymous":
        assert (response.status_code, response["Location"]) == (302, f"/accounts/login/?next={path}")
    else:
        assert response.status_code == (200 if who == "manager" else 403)


def test_console_menu_links_settings_to_the_console_not_the_admin(client, manager):
    client.force_login(manager)
    html = client.get("/follow-ups/").content.decode()
    assert '<a href="/settings/">Settings</a>' in html
    assert "/admin/" not in html


def _survey_post(**overrides) -> dict:
    data = {
        "name": "Support CSAT",
        "kind": "csat",
        "product_name": "Acme support",
        "default_locale": "en",
        "question_en": "How was our help?",
        "question_fr": "Comment était notre aide ?",
        "thank_you_en": "Thanks!",
        "is_active": "on",
        "q-TOTAL_FORMS": "2",
        "q-INITIAL_FORMS": "0",
        "q-0-kind": "select_one",
        "q-0-text_en": "What went wrong?",
        "q-0-text_fr": "Qu'est-ce qui n'allait pas ?",
        "q-0-choices": "slow | Too slow | Trop lent\nrude | Rude | Impoli",
        "q-0-show_if_score_min": "",
        "q-0-show_if_score_max": "2",
        "q-1-kind": "free_text",
    }
    data.update(overrides)
    return data


def test_console_survey_create_with_a_conditional_question_then_preview_in_french(client, manager):
    client.force_login(manager)
    response = client.post("/settings/surveys/new/", _survey_post())

    survey = Survey.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/settings/surveys/{survey.pk}/preview/"
    assert survey.question_text == {"en": "How was our help?", "fr": "Comment était notre aide ?"}
    question = survey.questions.get()
    assert (question.show_if_score_min, question.show_if_score_max) == (None, 2)
    assert question.choices == [
        {"value": "slow", "en": "Too slow", "fr": "Trop lent"},
        {"value": "rude", "en": "Rude", "fr": "Impoli"},
    ]
    assert AuditEntry.objects.get().actor == manager

    preview = client.get(f"/settings/surveys/{survey.pk}/preview/", {"locale": "fr"})
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "Comment était notre aide ?" in preview.context["email"]["body_text"]
    assert preview.context["email"]["subject"] == "Acme support : une petite question"
    assert preview.context["sms"]["encoding"] == "GSM-7"
    # The link's 64-character token takes the French SMS past 160 characters: billed as two.
    sms = preview.context["sms"]
    assert sms["text"].startswith("Comment était notre aide ? Répondez 1-5 ou ouvrez http")
    assert (160 < sms["length"] <= 306, sms["segments"]) == (True, 2)
    assert 'id="sms-segments"' in html
    page = client.get(f"/settings/surveys/{survey.pk}/preview/page/", {"locale": "fr"})
    assert "Comment était notre aide ?" in page.content.decode()


def test_console_survey_refused_input_shows_field_messages_and_writes_nothing(client, manager):
    client.force_login(manager)
    response = client.post("/settings/surveys/new/", _survey_post(**{"q-0-show_if_score_max": "9", "q-0-choices": ""}))

    assert response.status_code == 400
    errors = response.context["questions"][0].errors
    assert errors == {
        "choices": ["Give at least two options, each with a value."],
        "show_if_score_max": ["Pick a score from 1 to 5."],
    }
    assert Survey.objects.count() == 0


def test_console_survey_sets_its_own_expiry_and_fatigue_windows_and_refuses_out_of_range_days(client, manager):
    client.force_login(manager)
    form = client.get("/settings/surveys/new/").content.decode()
    assert "Don&#x27;t ask a person this survey again within (days)" in form

    refused = client.post(
        "/settings/surveys/new/",
        _survey_post(link_expiry_days="0", fatigue_survey_days="400", fatigue_global_days="-1"),
    )
    assert refused.status_code == 400
    assert refused.context["form"].errors == {
        "link_expiry_days": ["Ensure this value is greater than or equal to 1."],
        "fatigue_survey_days": ["Ensure this value is less than or equal to 365."],
        "fatigue_global_days": ["Ensure this value is greater than or equal to 0."],
    }
    late_reminder = client.post("/settings/surveys/new/", _survey_post(link_expiry_days="5", reminder_after_days="5"))
    assert late_reminder.context["form"].errors == {
        "reminder_after_days": ["Remind before the links expire, after 5 days: give fewer days."]
    }
    assert Survey.objects.count() == 0

    client.post("/settings/surveys/new/", _survey_post(link_expiry_days="5", fatigue_survey_days="0"))
    survey = Survey.objects.get()
    assert (survey.link_expiry_days, survey.fatigue_survey_days, survey.fatigue_global_days) == (5, 0, None)
    edit = client.get(f"/settings/surveys/{survey.pk}/")
    assert (edit.context["form"]["link_expiry_days"].value(), edit.context["form"]["fatigue_survey_days"].value()) == (
        5,
        0,
    )


def test_console_survey_texts_per_language_are_saved_and_previewed_in_each(client, manager):
    client.force_login(manager)
    post = _survey_post(
        default_locale="fr",
        question_en="",
        low_label_fr="Pas du tout",
        high_label_fr="Tout à fait",
        high_label_en="Completely",
        thank_you_fr="Merci !",
        thank_you_en="",
    )

    assert client.post("/settings/surveys/new/", post).status_code == 302

    survey = Survey.objects.get()
    assert (survey.default_locale, survey.low_label, survey.high_label, survey.thank_you_text) == (
        "fr",
        {"fr": "Pas du tout"},
        {"en": "Completely", "fr": "Tout à fait"},
        {"fr": "Merci !"},
    )
    french = client.get(f"/settings/surveys/{survey.pk}/preview/", {"locale": "fr"}).context["email"]
    english = client.get(f"/settings/surveys/{survey.pk}/preview/", {"locale": "en"}).context["email"]
    assert ("Pas du tout" in french["body_html"], "Tout à fait" in french["body_html"]) == (True, True)
    # English has its own highest label; the rest falls back to French, the survey's default language.
    assert "Comment était notre aide ?" in english["body_text"]
    assert ("Pas du tout" in english["body_html"], "Completely" in english["body_html"]) == (True, True)
    page = client.get(f"/settings/surveys/{survey.pk}/preview/page/", {"locale": "en"}).content.decode()
    assert 'aria-label="1: Pas du tout"' in page
    edit = client.get(f"/settings/surveys/{survey.pk}/").context["form"]
    assert (edit["thank_you_fr"].value(), edit["default_locale"].value()) == ("Merci !", "fr")
    french_page = client.get(f"/settings/surveys/{survey.pk}/preview/", {"locale": "fr"}).content.decode()
    english_page = client.get(f"/settings/surveys/{survey.pk}/preview/", {"locale": "en"}).content.decode()
    assert "<li>Qu&#x27;est-ce qui n&#x27;allait pas ?" in french_page
    assert "(Trop lent, Impoli)" in french_page
    assert "<li>What went wrong? (Too slow, Rude)</li>" in english_page
    assert '<span id="preview-thanks" lang="fr">Merci !</span>' in french_page
    assert '<span id="preview-thanks" lang="en">Merci !</span>' in english_page


def _conditional_post(**overrides) -> dict:
    return _survey_post(
        **{
            "q-TOTAL_FORMS": "3",
            "q-1-kind": "free_text",
            "q-1-text_en": "How slow was it?",
            "q-1-show_if_question": "0",
            "q-1-show_if_values": "slow",
            "q-2-kind": "yes_no",
            **overrides,
        }
    )


def test_console_survey_question_asked_only_when_an_earlier_answer_is_one_of_a_list(client, manager):
    client.force_login(manager)
    form = client.get("/settings/surveys/new/")
    first, second = form.context["questions"][0], form.context["questions"][1]
    assert "show_if_question" not in first.fields
    assert second.fields["show_if_question"].choices == [("", "any answer (always asked)"), ("0", "question 1")]

    response = client.post("/settings/surveys/new/", _conditional_post())

    assert response.status_code == 302
    survey = Survey.objects.get()
    wrong, how_slow = survey.questions.order_by("position")
    assert wrong.show_if_answer is None
    assert how_slow.show_if_answer == {"question": 0, "values": ["slow"]}
    edit = client.get(f"/settings/surveys/{survey.pk}/")
    assert edit.context["questions"][1]["show_if_question"].value() == 0
    assert edit.context["questions"][1]["show_if_values"].value() == "slow"


PICK_SLOW_OR_RUDE = "Pick one or more of question 1's answers: slow, rude."


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"q-1-show_if_values": "slow, fast"}, "show_if_values", PICK_SLOW_OR_RUDE),
        ({"q-1-show_if_values": ""}, "show_if_values", PICK_SLOW_OR_RUDE),
        (
            {"q-2-text_en": "Anything else?", "q-2-kind": "free_text", "q-2-show_if_question": "1",
             "q-2-show_if_values": "x"},
            "show_if_question",
            "A written answer cannot decide: pick a question with options, yes/no or a scale.",
        ),
    ],
)  # fmt: skip
def test_console_survey_answer_condition_refused_on_its_field(client, manager, overrides, field, message):
    client.force_login(manager)

    response = client.post("/settings/surveys/new/", _conditional_post(**overrides))

    assert response.status_code == 400
    conditional = response.context["questions"][2 if "q-2-show_if_question" in overrides else 1]
    assert conditional.errors == {field: [message]}
    assert Survey.objects.count() == 0


def test_console_survey_send_me_a_test_emails_the_manager(client, manager, outbox, django_capture_on_commit_callbacks):
    survey = SurveyFactory(kind="nps", question_text={"fr": "Nous recommanderiez-vous ?"})
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/settings/surveys/{survey.pk}/send-test/?locale=fr")

    assert response.status_code == 302
    assert response["Location"] == f"/settings/surveys/{survey.pk}/preview/?locale=fr&sent=1"
    assert [(m.recipient, m.subject.startswith("[Test] ")) for m in outbox] == [(manager.email, True)]
    assert "Nous recommanderiez-vous ?" in outbox[0].body_text


def test_console_survey_duplicate_and_pause(client, manager):
    survey = SurveyFactory(name="Delivery")
    client.force_login(manager)
    client.post(f"/settings/surveys/{survey.pk}/pause/", {"active": "0"})
    survey.refresh_from_db()
    assert survey.is_active is False
    response = client.post(f"/settings/surveys/{survey.pk}/duplicate/")
    copy = Survey.objects.exclude(pk=survey.pk).get()
    assert response["Location"] == f"/settings/surveys/{copy.pk}/"
    assert copy.name == "Delivery (copy)"


def test_console_trigger_rule_with_conditions(client, manager):
    survey = SurveyFactory()
    client.force_login(manager)
    response = client.post(
        "/settings/trigger-rules/new/",
        {
            "event_type": "support_ticket_solved",
            "survey": survey.pk,
            "channel": "email",
            "delay_minutes": "60",
            "sample_percent": "50",
            "is_active": "on",
            "c-TOTAL_FORMS": "2",
            "c-INITIAL_FORMS": "0",
            "c-0-property": "priority",
            "c-0-op": "in",
            "c-0-value": "high, urgent",
            "c-1-property": "",
        },
    )
    assert response.status_code == 302
    rule = TriggerRule.objects.get()
    assert rule.conditions == [{"property": "priority", "op": "in", "value": ["high", "urgent"]}]
    assert (rule.delay.total_seconds(), rule.sample_rate) == (3600, 0.5)


def test_console_routing_rule_refusal_is_a_field_message(client, manager):
    client.force_login(manager)
    data = {
        "position": "1",
        "opens_follow_up": "on",
        "priority": "normal",
        "assignment": "least_open",
        "is_active": "on",
    }
    response = client.post("/settings/routing-rules/new/", data)
    assert response.status_code == 400
    assert response.context["form"].errors == {"team": ["A rule that opens follow-ups needs a team."]}
    team = TeamFactory()
    assert client.post("/settings/routing-rules/new/", {**data, "team": team.pk}).status_code == 302
    assert RoutingRule.objects.get().team == team


def test_console_api_key_is_shown_once(client, manager):
    client.force_login(manager)
    response = client.post("/settings/api-keys/", {"name": "Shop", "scopes": ["events:write"]})

    assert response.status_code == 201
    raw = re.search(r'id="new-key" readonly value="([^"]+)"', response.content.decode()).group(1)
    assert ApiKey.objects.get().prefix == raw[:10]
    assert response["Cache-Control"] == "no-store"
    assert raw not in client.get("/settings/api-keys/").content.decode()
    key = ApiKey.objects.get()
    client.post(f"/settings/api-keys/{key.pk}/revoke/")
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_console_api_keys_show_their_staged_batches_waiting_and_failed(client, manager):
    shop, _ = api_key_create(name="Shop")
    quiet, _ = api_key_create(name="Quiet")
    nine_minutes_ago = timezone.now() - timedelta(minutes=9, seconds=5)
    for status, accepted_at in [
        (EventBatch.Status.ACCEPTED, nine_minutes_ago),
        (EventBatch.Status.ACCEPTED, timezone.now()),
        (EventBatch.Status.FAILED, nine_minutes_ago),
        (EventBatch.Status.EXPANDED, nine_minutes_ago),
    ]:
        EventBatch.objects.create(api_key=shop, size=1, events=[], status=status, accepted_at=accepted_at)
    EventBatch.objects.create(api_key=quiet, size=1, status=EventBatch.Status.EXPANDED, accepted_at=nine_minutes_ago)
    client.force_login(manager)

    page = client.get("/settings/api-keys/").content.decode()

    rows = {match.group(1): row for row in page.split("<tr>") if (match := re.search(r"<td>(Shop|Quiet)</td>", row))}
    assert "2 waiting for a worker, the oldest for 9\xa0minutes" in rows["Shop"]
    assert "<strong>1 failed</strong>" in rows["Shop"]
    assert "waiting" not in rows["Quiet"] and "failed" not in rows["Quiet"]


def test_console_invite_then_the_person_sets_a_password(client, manager, outbox, django_capture_on_commit_callbacks):
    team = TeamFactory(name="Care")
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/people/", {"email": "ann@example.com", "role": "agent", "team": team.pk})
    assert response.status_code == 302
    assert "ann@example.com is invited" in client.get(response["Location"]).content.decode()
    link = re.search(r"http://[^\s]+/accounts/reset/[^\s]+/", outbox[0].body_text).group(0)
    client.logout()
    form = client.get(link.split("8000", 1)[1] if ":8000" in link else link, follow=True)
    saved = client.post(
        form.redirect_chain[-1][0], {"new_password1": "correct horse battery", "new_password2": "correct horse battery"}
    )
    assert saved.status_code == 302
    assert User.objects.get(email="ann@example.com").check_password("correct horse battery")


def test_console_sets_a_persons_language(client, manager, agent):
    client.force_login(manager)
    page = client.get(f"/settings/people/{agent.pk}/").content.decode()
    assert '<option value="" selected>Their browser&#x27;s language</option>' in page

    response = client.post(f"/settings/people/{agent.pk}/", {"role": "agent", "is_active": "on", "language": "fr"})

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.language == "fr"


def test_a_french_speaking_manager_reads_the_console_in_french(client, agent):
    client.force_login(ManagerFactory(email="chef@closeloop.test", language="fr"))

    home = client.get("/settings/").content.decode()
    people = client.get("/settings/people/").content.decode()

    assert "<h1>Paramètres</h1>" in home
    assert 'aria-current="page">Vue d\'ensemble</a>' in home
    assert ">Réponses types</a>" in home and ">Journal d'audit</a>" in home
    assert "<h2>Dernières modifications</h2>" in home
    assert "<h1>Utilisateurs</h1>" in people
    assert '<h2 id="invite-title">Inviter quelqu’un</h2>' in people
    assert '<label for="id_role">Rôle</label>' in people
    assert "<td>agent@closeloop.test</td>" not in people and ">agent@closeloop.test</a></td><td>Agent</td>" in people
    assert "<td>celle de son navigateur</td>" in people
    SurveyFactory(name="Livraison")
    surveys = client.get("/settings/surveys/").content.decode()
    assert "<h1>Enquêtes</h1>" in surveys
    assert '<button type="submit">Mettre en pause<span class="visually-hidden"> Livraison</span></button>' in surveys
    new_survey = client.get("/settings/surveys/new/").content.decode()
    assert ">Lien de remerciement</label>" in new_survey
    assert "Vide : pas de relance." in new_survey


def test_a_french_speaking_manager_edits_and_previews_a_survey_in_french(client):
    client.force_login(ManagerFactory(email="chef@closeloop.test", language="fr"))
    survey = SurveyFactory(name="Livraison")

    edit = client.get(f"/settings/surveys/{survey.pk}/").content.decode()
    preview = client.get(f"/settings/surveys/{survey.pk}/preview/", {"locale": "en"}).content.decode()

    assert "<h1>Modifier « Livraison »</h1>" in edit
    assert "<h2>Questions complémentaires</h2>" in edit
    assert "<legend>Question 1</legend>" in edit
    assert '<button type="submit">Enregistrer et prévisualiser</button>' in edit
    assert "<h1>Aperçu de « Livraison »</h1>" in preview
    assert '<button type="submit">M\'envoyer un test (EN)</button>' in preview
    assert '<h2 id="page-title">Page du répondant</h2>' in preview
    assert re.search(r"<p id=\"sms-segments\">\d+ caractères, GSM-7 : 2 segments\.</p>", preview)


def test_console_audit_trail_lists_who_changed_what(client, manager):
    client.force_login(manager)
    client.post("/settings/api-keys/", {"name": "Shop", "scopes": ["events:write"]})
    html = client.get("/settings/audit-trail/").content.decode()
    assert "manager@closeloop.test" in html
    assert "Created apikey “Shop (" in html


def test_console_branding_refuses_a_low_contrast_colour_and_a_survey_overrides_the_workspace(client, manager):
    survey = SurveyFactory()
    client.force_login(manager)
    refused = client.post("/settings/branding/", {"sender_name": "Acme", "brand_color": "#ffcc00"})
    assert refused.status_code == 400
    assert refused.context["form"].errors["brand_color"][0].startswith("White text on #ffcc00 contrasts 1.")

    assert (
        client.post("/settings/branding/", {"sender_name": "Acme", "sender_email": "care@acme.test"}).status_code == 200
    )
    own = client.post(
        f"/settings/surveys/{survey.pk}/branding/", {"sender_name": "Acme Support", "sms_signature": "Acmê"}
    )
    assert own.status_code == 200
    assert own.context["brand"].from_email == "Acme Support <care@acme.test>"
    assert own.context["brand"].sms_signature == "Acme"
    assert [entry.object_type for entry in AuditEntry.objects.order_by("pk")] == ["branding", "branding"]


def test_console_trigger_rules_dry_run_says_which_rules_match_and_why(client, manager):
    survey = SurveyFactory(name="Support CSAT")
    high = TriggerRuleFactory(
        event_type="ticket_solved",
        survey=survey,
        conditions=[{"property": "priority", "op": "equals", "value": "high"}],
    )
    other = TriggerRuleFactory(event_type="purchase", survey=survey)
    client.force_login(manager)

    response = client.get(
        "/settings/trigger-rules/dry-run/", {"event_type": "ticket_solved", "properties": '{"priority": "low"}'}
    )

    verdicts = {verdict.rule.pk: (verdict.matches, verdict.reasons) for verdict in response.context["verdicts"]}
    assert verdicts == {
        high.pk: (False, ["priority equals 'high': does not hold"]),
        other.pk: (False, ["waits for purchase, not ticket_solved"]),
    }
    matched = client.get(
        "/settings/trigger-rules/dry-run/", {"event_type": "ticket_solved", "properties": '{"priority": "high"}'}
    )
    assert [v.matches for v in matched.context["verdicts"] if v.rule.pk == high.pk] == [True]
    assert client.get("/settings/trigger-rules/dry-run/", {"event_type": "x", "properties": "[1]"}).status_code == 400
    assert TriggerRule.objects.count() == 2


def test_console_widget_key_is_created_with_its_snippet_edited_and_revoked(client, manager):
    survey = SurveyFactory(name="App NPS")
    client.force_login(manager)
    form = {"name": "App", "survey": survey.pk, "sample_factor": "0.5", "recurring_period_days": "60"}

    response = client.post(
        "/settings/web-widget/", {**form, "allowed_origins": "https://app.example.com/\nhttp://localhost:3000"}
    )

    assert response.status_code == 201
    key = PublishableKey.objects.get()
    assert (key.survey, key.allowed_origins, key.sample_factor, key.recurring_period_days) == (
        survey,
        ["https://app.example.com", "http://localhost:3000"],
        0.5,
        60,
    )
    html = response.content.decode()
    assert f'&lt;script src="http://testserver/web/snippet.js" data-key="{key.key}"&gt;&lt;/script&gt;' in html
    edit = client.post(f"/settings/web-widget/{key.pk}/", {**form, "allowed_origins": "https://app.example.com"})
    assert (edit.status_code, edit["Location"]) == (302, "/settings/web-widget/")
    client.post(f"/settings/web-widget/{key.pk}/revoke/")
    key.refresh_from_db()
    assert key.allowed_origins == ["https://app.example.com"] and key.revoked_at is not None
    assert list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)) == ["created", "updated", "revoked"]
    home = client.get("/settings/").content.decode()
    assert 'href="/settings/web-widget/">Active web widget keys<strong>0</strong></a>' in home


def test_console_widget_key_refuses_a_bad_origin_on_its_field(client, manager):
    client.force_login(manager)
    form = {"name": "App", "survey": SurveyFactory().pk, "sample_factor": "1", "recurring_period_days": "90"}

    response = client.post("/settings/web-widget/", {**form, "allowed_origins": "app.example.com"})

    assert response.status_code == 400
    assert re.search(r'<div role="alert">.*is not an origin', response.content.decode(), re.S)
    assert PublishableKey.objects.count() == 0


def test_console_whatsapp_trigger_rule_says_what_setup_is_missing(client, manager, settings):
    settings.TWILIO_WHATSAPP_FROM, settings.TWILIO_WHATSAPP_CONTENT_SID = "", ""
    survey = SurveyFactory()
    client.force_login(manager)
    form = {"event_type": "delivered", "survey": survey.pk, "channel": "whatsapp", "delay_minutes": "0",
            "sample_percent": "100", "is_active": "on", "c-TOTAL_FORMS": "0", "c-INITIAL_FORMS": "0"}  # fmt: skip
    refused = client.post("/settings/trigger-rules/new/", form)
    assert refused.status_code == 400
    assert refused.context["form"].errors["channel"] == [
        "WhatsApp is not set up on this installation: set TWILIO_WHATSAPP_FROM and TWILIO_WHATSAPP_CONTENT_SID"
        " (see the WhatsApp setup page)."
    ]
    settings.TWILIO_WHATSAPP_FROM, settings.TWILIO_WHATSAPP_CONTENT_SID = "+15005550006", "HX" + "2" * 32
    assert client.post("/settings/trigger-rules/new/", form).status_code == 302
    assert TriggerRule.objects.get().channel == "whatsapp"


def test_console_preview_shows_the_whatsapp_template_and_its_variables(client, manager, settings):
    survey = SurveyFactory(kind="csat", product_name="Acme")
    client.force_login(manager)
    settings.TWILIO_WHATSAPP_CONTENT_SID = ""
    missing = client.get(f"/settings/surveys/{survey.pk}/preview/")
    assert missing.context["whatsapp"] == {
        "problem": "TWILIO_WHATSAPP_CONTENT_SID is not set: WhatsApp invitations need a template"
    }
    settings.TWILIO_WHATSAPP_CONTENT_SID = "HX" + "3" * 32
    shown = client.get(f"/settings/surveys/{survey.pk}/preview/")
    template = shown.context["whatsapp"]["template"]
    assert (template["content_sid"], list(template["variables"])) == ("HX" + "3" * 32, ["1", "2"])
    assert template["variables"]["1"] == "How satisfied were you with Acme?"
    # The preview's invitation has no row: its link leads nowhere, as in the email and SMS previews.
    assert re.fullmatch(r"http://testserver/s/[0-9a-f]+/", template["variables"]["2"])
    assert "<dt>{{1}}</dt><dd>How satisfied were you with Acme?</dd>" in shown.content.decode()


def test_console_survey_link_page_creates_the_link_and_shows_its_qr_codes(client, manager):
    survey = SurveyFactory(name="Store")
    client.force_login(manager)
    empty = client.get(f"/settings/surveys/{survey.pk}/link/")
    assert (empty.status_code, empty.context["link"]) == (200, None)
    form = {"slug": "store-7", "is_enabled": "on", "kiosk_enabled": "on", "ask_contact": "on"}
    saved = client.post(f"/settings/surveys/{survey.pk}/link/", form)
    html = saved.content.decode()
    assert saved.status_code == 200
    assert '<p role="status">Saved.</p>' in html
    assert '<a href="http://testserver/l/store-7/" id="link-url">http://testserver/l/store-7/</a>' in html
    assert 'href="http://testserver/l/store-7/?kiosk=1" id="kiosk-url"' in html
    assert '<img src="/l/store-7/qr.svg" alt="QR code of http://testserver/l/store-7/"' in html
    assert 'href="/l/store-7/qr.png?download=1"' in html
    assert SurveyLink.objects.get().survey == survey
    assert AuditEntry.objects.get(object_type="surveylink").actor == manager


def test_console_survey_link_page_refuses_a_taken_name_on_its_field(client, manager):
    SurveyLinkFactory(slug="store-7")
    survey = SurveyFactory()
    client.force_login(manager)
    refused = client.post(f"/settings/surveys/{survey.pk}/link/", {"slug": "store-7", "is_enabled": "on"})
    assert refused.status_code == 400
    assert refused.context["form"].errors["slug"] == ["Another survey's link already uses this name."]
    assert not SurveyLink.objects.filter(survey=survey).exists()


def test_console_routing_dry_run_says_which_rule_decides_and_why(client, manager):
    survey = SurveyFactory(kind="nps", name="Delivery")
    billing = TeamFactory(name="Billing")
    refunds = RoutingRule.objects.create(position=1, team=billing, comment_contains="refund", priority="high")
    RoutingRule.objects.create(position=2, team=TeamFactory(name="Care"), event_properties={"store": "Lyon"})
    client.force_login(manager)

    response = client.get(
        "/settings/routing-rules/dry-run/",
        {"survey": survey.pk, "score": 3, "comment": "No refund yet", "event_properties": '{"store": "Nice"}'},
    )

    assert response.status_code == 200
    result = response.context["result"]
    assert (result.decided_by, result.opens_follow_up) == (refunds, True)
    html = response.content.decode()
    assert "Rule #1 decides: it opens a case for Billing (high priority, SLA 24 h)." in html
    assert "comment contains “refund”: holds" in html
    assert "event property store is &#x27;Lyon&#x27;: does not hold" in html
    assert "Dry run" in client.get("/settings/routing-rules/").content.decode()


def test_console_routing_dry_run_bad_input_is_a_400_page_with_field_errors(client, manager):
    client.force_login(manager)
    survey = SurveyFactory(kind="csat")

    response = client.get(
        "/settings/routing-rules/dry-run/", {"survey": survey.pk, "score": 9, "contact_properties": "[1]"}
    )

    assert response.status_code == 400
    assert response.context["result"] is None
    assert response.context["form"].errors == {"contact_properties": ['Give a JSON object, e.g. {"plan": "pro"}.']}
    off_scale = client.get("/settings/routing-rules/dry-run/", {"survey": survey.pk, "score": 9})
    assert off_scale.status_code == 400
    assert off_scale.context["form"].errors == {"score": ["Give a score from 1 to 5 for this survey."]}
    assert (
        '<div role="alert"><ul class="errorlist" id="id_score_error"><li>Give a score from 1 to 5 for this survey.'
        in (off_scale.content.decode())
    )
    assert (
        client.get("/settings/routing-rules/dry-run/", {"survey": 99999999999999999999, "score": 1}).status_code == 400
    )


def test_console_canned_replies_create_edit_refuse_and_delete(client, manager):
    care = TeamFactory(name="Care")
    client.force_login(manager)
    form = {"team": care.pk, "locale": "fr", "title": "Retard", "body": "Bonjour {first_name},", "is_active": "on"}

    assert client.post("/settings/canned-replies/new/", form)["Location"] == "/settings/canned-replies/"
    reply = CannedReply.objects.get()
    assert (reply.team, reply.locale, reply.title, reply.body, reply.is_active) == (
        care, "fr", "Retard", "Bonjour {first_name},", True
    )  # fmt: skip
    listed = client.get("/settings/canned-replies/").content.decode()
    assert f'<a href="/settings/canned-replies/{reply.pk}/">Retard</a>' in listed
    assert "French" in listed and "Offered" in listed

    edited = client.post(f"/settings/canned-replies/{reply.pk}/", {**form, "body": "Bonjour {name}", "is_active": ""})
    assert edited.status_code == 302
    reply.refresh_from_db()
    assert (reply.body, reply.is_active) == ("Bonjour {name}", False)

    CannedReply.objects.create(team=care, locale="fr", title="Remboursement", body="…")
    clash = client.post(f"/settings/canned-replies/{reply.pk}/", {**form, "title": "remboursement"})
    assert clash.status_code == 400
    assert clash.context["form"].errors == {"title": ["Team Care already has a fr reply titled remboursement."]}
    empty = client.post("/settings/canned-replies/new/", {**form, "title": "New", "body": ""})
    assert (empty.status_code, empty.context["form"].errors) == (400, {"body": ["This field is required."]})

    assert client.post(f"/settings/canned-replies/{reply.pk}/delete/")["Location"] == "/settings/canned-replies/"
    assert list(CannedReply.objects.values_list("title", flat=True)) == ["Remboursement"]
    assert list(
        AuditEntry.objects.filter(object_type="cannedreply").order_by("pk").values_list("action", flat=True)
    ) == [
        "created",
        "updated",
        "deleted",
    ]
    assert client.get(f"/settings/canned-replies/{reply.pk}/").status_code == 404
    assert client.get(f"/settings/canned-replies/{reply.pk}/delete/").status_code == 405


def test_console_team_assignment_strategy_is_saved_shown_and_audited(client, manager):
    team = TeamFactory(name="Care")
    client.force_login(manager)
    form = client.get(f"/settings/teams/{team.pk}/").content.decode()
    assert 'name="assignment"' in form
    fields = {
        "name": "Care", "sla_hours": 24, "time_zone": "Europe/Paris", "working_days": "0,1,2,3,4",
        "opens_at": "09:00", "closes_at": "17:00", "holidays_text": "",
    }  # fmt: skip

    refused = client.post(f"/settings/teams/{team.pk}/", {**fields, "assignment": "whoever"})
    saved = client.post(f"/settings/teams/{team.pk}/", {**fields, "assignment": "round_robin"})

    assert refused.status_code == 400
    assert "Select a valid choice. whoever is not one of the available choices." in refused.content.decode()
    assert saved.status_code == 302
    team.refresh_from_db()
    assert team.assignment == "round_robin"
    assert "Round robin (each agent in turn)" in client.get("/settings/teams/").content.decode()
    entry = AuditEntry.objects.filter(object_type="team").latest("pk")
    assert entry.changes["assignment"] == ["least_open", "round_robin"]


def test_console_person_marked_away_is_listed_as_away(client, manager, agent):
    client.force_login(manager)

    response = client.post(
        f"/settings/people/{agent.pk}/", {"role": "agent", "team": agent.team_id, "is_active": "on", "is_away": "on"}
    )

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.is_away is True
    assert "away: gets no new case" in client.get("/settings/people/").content.decode()
    assert AuditEntry.objects.get(object_type="user").changes == {"is_away": [False, True]}


@pytest.fixture
def fake_slack(settings):
    fake = FakeSlack([slack_channel(1, "care-escalations"), slack_channel(2, "billing", private=True)]).start()
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.SLACK_API_BASE_URL = fake.api_url
    settings.SLACK_BOT_TOKEN = SLACK_TOKEN
    yield fake
    fake.stop()


TEAM_FIELDS = {
    "name": "Care", "sla_hours": 24, "time_zone": "UTC", "working_days": "0,1,2,3,4", "opens_at": "09:00",
    "closes_at": "17:00", "holidays_text": "", "assignment": "least_open",
}  # fmt: skip


def test_console_team_picks_its_slack_channel_from_slacks_list(client, manager, fake_slack):
    team = TeamFactory(name="Care")
    client.force_login(manager)

    page = client.get(f"/settings/teams/{team.pk}/").content.decode()
    saved = client.post(f"/settings/teams/{team.pk}/", {**TEAM_FIELDS, "slack_channel_id": "C00000001"})

    assert '<option value="C00000001">#care-escalations</option>' in page
    assert '<option value="C00000002">#billing</option>' in page
    assert saved.status_code == 302
    team.refresh_from_db()
    assert (team.slack_channel_id, team.slack_channel_name) == ("C00000001", "care-escalations")
    assert "#care-escalations" in client.get("/settings/teams/").content.decode()
    assert AuditEntry.objects.get(object_type="team").changes == {
        "slack_channel_id": ["", "C00000001"],
        "slack_channel_name": ["", "care-escalations"],
    }


def test_console_team_page_says_why_slack_gave_no_list(client, manager, fake_slack, settings):
    team = TeamFactory(name="Care", slack_channel_id="C00000001", slack_channel_name="care-escalations")
    settings.SLACK_BOT_TOKEN = "xoxb-revoked"
    client.force_login(manager)

    page = client.get(f"/settings/teams/{team.pk}/").content.decode()
    saved = client.post(f"/settings/teams/{team.pk}/", {**TEAM_FIELDS, "sla_hours": 8, "slack_channel_id": "C00000001"})

    assert "Slack refused conversations.list: invalid_auth." in page
    # The picked channel is kept, and saving the team's other fields does not need Slack.
    assert '<option value="C00000001" selected>#care-escalations</option>' in page
    assert saved.status_code == 302
    team.refresh_from_db()
    assert (team.sla_hours, team.slack_channel_id) == (8, "C00000001")


def test_console_team_page_without_a_bot_token_explains_there_is_no_channel_list(client, manager):
    team = TeamFactory(name="Care")
    client.force_login(manager)

    page = client.get(f"/settings/teams/{team.pk}/").content.decode()

    assert 'name="slack_channel_id"' not in page
    assert "No Slack channel list: Closeloop lists channels only with a Slack app&#x27;s bot token" in page
    assert 'name="slack_webhook_url"' in page


NIGHT_TEAM = {
    "name": "Nuit", "sla_hours": 24, "time_zone": "Europe/Paris", "working_days": "0,1,2,3,4",
    "opens_at": "18:00", "closes_at": "08:00", "holidays_text": "", "assignment": "least_open",
}  # fmt: skip


@pytest.mark.parametrize(
    ("language", "label", "error"),
    [
        ("fr", '<label for="id_time_zone">Fuseau horaire</label>', "L&#x27;équipe doit fermer après son ouverture."),
        ("en", '<label for="id_time_zone">Time zone</label>', "The team must close after it opens."),
    ],
)
def test_a_refused_team_is_explained_in_the_managers_language(client, language, label, error):
    client.force_login(ManagerFactory(email=f"{language}@closeloop.test", language=language))

    refused = client.post("/settings/teams/new/", NIGHT_TEAM)

    page = refused.content.decode()
    assert refused.status_code == 400
    assert label in page
    assert f'<ul class="errorlist" id="id_closes_at_error"><li>{error}</li></ul>' in page
    assert not Team.objects.filter(name="Nuit").exists()


def test_a_french_speaking_manager_reads_the_trigger_rules_dry_run_in_french(client):
    survey = SurveyFactory(name="Support CSAT")
    rule = TriggerRuleFactory(
        event_type="ticket_solved",
        survey=survey,
        conditions=[{"property": "priority", "op": "equals", "value": "high"}],
    )
    client.force_login(ManagerFactory(language="fr"))

    response = client.get(
        "/settings/trigger-rules/dry-run/", {"event_type": "ticket_solved", "properties": '{"priority": "low"}'}
    )
    invalid = client.get("/settings/trigger-rules/dry-run/", {"event_type": "x", "properties": "[1]"})

    assert [(v.rule.pk, v.matches, v.reasons) for v in response.context["verdicts"]] == [
        (rule.pk, False, ["priority equals 'high' : faux"])
    ]
    assert "Donnez un objet JSON, par ex. {&quot;priority&quot;: &quot;high&quot;}." in invalid.content.decode()


def test_a_french_speaking_manager_reads_the_routing_rules_and_teams_lists_in_french(client, team):
    RoutingRule.objects.create(position=1, team=team, comment_contains="retard", priority="high")
    client.force_login(ManagerFactory(language="fr"))

    routing = client.get("/settings/routing-rules/").content.decode()
    teams = client.get("/settings/teams/").content.decode()

    assert "<h1>Que faire des réponses</h1>" in routing
    assert "<td>toute enquête, réponses insatisfaites, le commentaire contient « retard »</td>" in routing
    assert "<td>Cas pour Care (haute, le mode de l&#x27;équipe)</td>" in routing
    assert "<td>Active</td>" in routing
    assert "<h2>Causes racines</h2>" in teams
    assert "<td>jours 0,1,2,3,4, 09:00–17:00 UTC</td>" in teams
