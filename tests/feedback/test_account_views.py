import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_account_page_needs_a_sign_in(client):
    response = client.get(reverse("account"))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/account/"


def test_the_header_links_to_the_account_page(client, agent):
    client.force_login(agent)

    html = client.get(reverse("follow-up-inbox")).content.decode()

    assert '<a href="/account/" title="Your account and language">agent@closeloop.test</a>' in html


def test_choosing_french_saves_it_and_the_next_page_is_french(client, agent):
    client.force_login(agent)

    response = client.post(reverse("account"), {"language": "fr"}, follow=True)

    agent.refresh_from_db()
    assert agent.language == "fr"
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "<h1>Votre compte</h1>" in html
    assert "Enregistré. Vos pages et vos e-mails utilisent désormais cette langue." in html
    assert '<option value="fr" selected>Français</option>' in html


def test_choosing_the_browser_clears_the_choice(client, agent):
    agent.language = "fr"
    agent.save()
    client.force_login(agent)

    response = client.post(reverse("account"), {"language": ""}, follow=True, HTTP_ACCEPT_LANGUAGE="en")

    agent.refresh_from_db()
    assert agent.language == ""
    assert "<h1>Your account</h1>" in response.content.decode()


def test_an_unknown_language_is_a_field_error_and_changes_nothing(client, agent):
    client.force_login(agent)

    response = client.post(reverse("account"), {"language": "de"})

    assert response.status_code == 400
    assert "Select a valid choice. de is not one of the available choices." in response.content.decode()
    agent.refresh_from_db()
    assert agent.language == ""
