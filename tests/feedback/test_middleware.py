"""Which language a staff page speaks: the person's choice, else their browser's, else English."""

import pytest
from django.urls import reverse

from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_person_who_chose_french_gets_french_whatever_their_browser_asks(client, team):
    client.force_login(UserFactory(team=team, language="fr"))

    response = client.get(reverse("follow-up-inbox"), HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "<h1>Boîte de réception</h1>" in html
    assert response["Content-Language"] == "fr"


def test_a_person_who_chose_english_gets_english_from_a_french_browser(client, team):
    client.force_login(UserFactory(team=team, language="en"))

    html = client.get(reverse("follow-up-inbox"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert '<html lang="en">' in html
    assert "<h1>Follow-ups</h1>" in html


@pytest.mark.parametrize(
    ("accept_language", "lang", "heading"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.5", "fr", "<h1>Boîte de réception</h1>"),
        ("en-GB,en;q=0.9", "en", "<h1>Follow-ups</h1>"),
        ("de-DE", "en", "<h1>Follow-ups</h1>"),
    ],
)
def test_with_no_choice_the_browser_decides(client, agent, accept_language, lang, heading):
    assert agent.language == ""
    client.force_login(agent)

    html = client.get(reverse("follow-up-inbox"), HTTP_ACCEPT_LANGUAGE=accept_language).content.decode()

    assert f'<html lang="{lang}">' in html
    assert heading in html


def test_the_sign_in_page_follows_the_browser(client):
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert '<html lang="fr">' in html
    assert "<h1>Se connecter</h1>" in html
    assert '<label for="id_password">Mot de passe</label>' in html
    assert ">Mot de passe oublié ?</a>" in html


def test_the_apis_answer_in_english_to_a_french_speaking_person_and_a_french_browser(client):
    client.force_login(ManagerFactory(language="fr"))

    refused = client.post("/api/surveys/", {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="fr")
    client.logout()
    anonymous = client.get("/v1/people.json", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")

    assert refused.status_code == 400
    assert refused.json() == {
        "message": "Invalid input.",
        "errors": {"name": ["This field is required."], "kind": ["This field is required."]},
    }
    assert refused["Content-Language"] == "en"
    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "Authentication credentials were not provided."
