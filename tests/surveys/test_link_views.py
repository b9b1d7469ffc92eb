"""The public link /l/<slug>/, its kiosk mode and its QR codes, through HTTP."""

from xml.etree import ElementTree

import pytest
from django.core.cache import cache
from django.test import Client

from feedback.models import FollowUp
from surveys.models import Contact, Invitation, Response
from surveys.tokens import invitation_token
from tests.conftest import BROWSER_USER_AGENT
from tests.factories import ContactFactory, RoutingRuleFactory, SurveyFactory, SurveyLinkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def link():
    return SurveyLinkFactory(
        slug="store-7", survey=SurveyFactory(kind="nps", product_name="Acme", name="Store"), kiosk_enabled=True
    )


def _answer_path(invitation: Invitation) -> str:
    return f"/s/{invitation_token(invitation.public_id)}/"


def test_the_link_asks_the_score_and_records_nothing_on_get(client, link):
    page = client.get("/l/store-7/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="fr">' in html
    assert "Quelle est la probabilité que vous recommandiez Acme" in html
    assert (Contact.objects.count(), Invitation.objects.count(), Response.objects.count()) == (0, 0, 0)


def test_an_answer_on_the_link_goes_through_the_respondent_page_s_steps_with_a_contact_me_email(
    client, link, agent, django_capture_on_commit_callbacks
):
    RoutingRuleFactory(team=agent.team)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/l/store-7/", {"step": "score", "score": "2"})
    invitation = Invitation.objects.get()
    assert (invitation.channel, invitation.status, invitation.properties) == ("link", "queued", {"link": "store-7"})
    assert started.status_code == 302
    assert started["Location"] == f"{_answer_path(invitation)}?step=comment"
    response = Response.objects.get()
    assert (response.score, response.held_reason, response.contact.email) == (2, "", "")
    # The same pipeline as every answer: the unhappy score opened a case.
    case = FollowUp.objects.get()
    assert case.response_id == response.pk

    comment_page = client.get(started["Location"])
    assert 'name="contact_email"' in comment_page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(
            _answer_path(invitation),
            {"step": "comment", "comment": "Long queue at the till.", "contact_email": "Ana@Example.com"},
        )
    assert saved["Location"] == f"{_answer_path(invitation)}?step=thanks"
    response.refresh_from_db()
    assert (response.comment, response.contact.email) == ("Long queue at the till.", "Ana@Example.com")
    # The case can now be answered by email.
    assert client.get(saved["Location"]).status_code == 200


def test_a_contact_me_email_of_a_known_customer_moves_the_answer_to_them(client, link):
    known = ContactFactory(email="ana@example.com", name="Ana")
    client.post("/l/store-7/", {"step": "score", "score": "3"})
    invitation = Invitation.objects.get()
    anonymous_id = invitation.contact_id
    client.post(_answer_path(invitation), {"step": "comment", "comment": "", "contact_email": "ANA@example.com"})
    response = Response.objects.get()
    assert (response.contact_id, Invitation.objects.get().contact_id) == (known.pk, known.pk)
    assert not Contact.objects.filter(pk=anonymous_id).exists()


def test_a_bad_contact_email_saves_nothing_and_says_which_field(client, link):
    client.post("/l/store-7/", {"step": "score", "score": "3"})
    invitation = Invitation.objects.get()
    page = client.post(_answer_path(invitation), {"step": "comment", "comment": "Too slow", "contact_email": "ana@"})
    html = page.content.decode()
    assert page.status_code == 400
    assert '<span class="error" role="alert" id="contact-error">Enter a valid email address, or leave the field' in html
    assert 'aria-invalid="true" aria-describedby="contact-error"' in html
    assert ">Too slow</textarea>" in html
    response = Response.objects.get()
    assert (response.comment, response.contact.email) == ("", "")


def test_one_answer_per_browser_leads_back_to_it(client, link):
    client.post("/l/store-7/", {"step": "score", "score": "9"})
    invitation = Invitation.objects.get()
    again = client.get("/l/store-7/")
    assert (again.status_code, again["Location"]) == (302, _answer_path(invitation))
    second = client.post("/l/store-7/", {"step": "score", "score": "1"})
    assert (second.status_code, second["Location"]) == (302, _answer_path(invitation))
    assert list(Response.objects.values_list("score", flat=True)) == [9]
    # Another browser answers for itself.
    Client(HTTP_USER_AGENT=BROWSER_USER_AGENT).post("/l/store-7/", {"step": "score", "score": "7"})
    assert sorted(Response.objects.values_list("score", flat=True)) == [7, 9]


def test_new_answers_are_limited_per_address_and_hour(client, link, settings):
    settings.LINK_ANSWERS_PER_HOUR = 2
    for n in range(2):
        browser = Client(HTTP_USER_AGENT=BROWSER_USER_AGENT, REMOTE_ADDR="203.0.113.9")
        assert browser.post("/l/store-7/", {"step": "score", "score": str(n)}).status_code == 302
    refused = Client(HTTP_USER_AGENT=BROWSER_USER_AGENT, REMOTE_ADDR="203.0.113.9").post(
        "/l/store-7/", {"step": "score", "score": "5"}
    )
    assert (refused.status_code, refused["Retry-After"]) == (429, "3600")
    assert "Many answers came from your network. Please try again in an hour." in refused.content.decode()
    assert Response.objects.count() == Invitation.objects.count() == Contact.objects.count() == 2
    other = Client(HTTP_USER_AGENT=BROWSER_USER_AGENT, REMOTE_ADDR="198.51.100.4")
    assert other.post("/l/store-7/", {"step": "score", "score": "5"}).status_code == 302


def test_kiosk_takes_answer_after_answer_and_ends_each_at_its_start(client, link):
    first = client.post("/l/store-7/?kiosk=1&lang=fr", {"step": "score", "score": "10"})
    invitation = Invitation.objects.get()
    assert invitation.channel == "kiosk"
    comment_page = client.get(first["Location"]).content.decode()
    assert 'data-kiosk-restart="/l/store-7/?kiosk=1&amp;lang=fr"' in comment_page
    assert "Modifier ma réponse" not in comment_page
    done = client.post(_answer_path(invitation), {"step": "comment", "comment": "Super accueil"})
    assert done["Location"] == "/l/store-7/?kiosk=1&lang=fr&step=thanks"
    thanks = client.get(done["Location"]).content.decode()
    assert "Le questionnaire recommence pour la personne suivante dans quelques secondes." in thanks
    assert 'href="/l/store-7/?kiosk=1&amp;lang=fr" id="kiosk-restart" data-kiosk-thanks' in thanks
    # The finished answer's pages are gone: the next person cannot go Back into it.
    assert client.get(_answer_path(invitation) + "?step=comment").status_code == 404
    # No per-browser limit: the same device takes the next person's answer.
    assert client.get("/l/store-7/?kiosk=1").status_code == 200
    client.post("/l/store-7/?kiosk=1", {"step": "score", "score": "4"})
    assert sorted(Response.objects.values_list("score", flat=True)) == [4, 10]


def test_kiosk_mode_must_be_allowed_on_the_link(client, link):
    link.kiosk_enabled = False
    link.save()
    page = client.get("/l/store-7/?kiosk=1")
    assert page.status_code == 410
    assert client.post("/l/store-7/?kiosk=1", {"step": "score", "score": "4"}).status_code == 410
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("change", [{"is_enabled": False}, {"survey__is_active": False}])
def test_a_closed_link_says_so_and_records_nothing(client, change):
    SurveyLinkFactory(slug="closed-1", **change)
    page = client.post("/l/closed-1/", {"step": "score", "score": "4"})
    assert page.status_code == 410
    assert "This survey is closed" in page.content.decode()
    assert not Invitation.objects.exists()


def test_unknown_links_and_bad_scores_are_friendly_pages(client, link):
    assert client.get("/l/nope-1/").status_code == 404
    bad = client.post("/l/store-7/", {"step": "score", "score": "11"})
    assert (bad.status_code, "Choose a score from 0 to 10." in bad.content.decode()) == (400, True)
    assert client.post("/l/store-7/", {"step": "score", "score": "x" * 5000}).status_code == 400
    assert not Invitation.objects.exists()


def test_the_qr_codes_are_valid_svg_and_png_of_the_link(client, link):
    svg = client.get("/l/store-7/qr.svg")
    assert (svg.status_code, svg["Content-Type"]) == (200, "image/svg+xml")
    root = ElementTree.fromstring(svg.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}title").text == "QR code of http://testserver/l/store-7/"
    png = client.get("/l/store-7/qr.png", {"download": "1"})
    assert (png.status_code, png["Content-Type"]) == (200, "image/png")
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert png["Content-Disposition"] == 'attachment; filename="survey-store-7.png"'
    assert client.get("/l/nope-1/qr.svg").status_code == 404
