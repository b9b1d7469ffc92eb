import pytest
from django.urls import reverse

from insights.models import Theme, ThemeCandidate
from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "status", "post_status"), [("manager", 200, 302), ("agent", 403, 403), ("anonymous", 302, 302)]
)
def test_themes_page_permission_cast(client, who, status, post_status):
    if who == "manager":
        client.force_login(ManagerFactory())
    elif who == "agent":
        client.force_login(UserFactory())
    response = client.get(reverse("themes"))
    assert response.status_code == status
    if who == "anonymous":
        assert response["Location"].startswith("/accounts/login/")
    assert client.post(reverse("theme-create"), {"name": "X"}).status_code == post_status
    assert Theme.objects.filter(slug="x").exists() is (who == "manager")


def test_themes_page_lists_the_taxonomy_candidates_and_the_reading_status(client):
    ThemeCandidate.objects.create(
        key_phrases=["gift wrap"], size=3, typical_comments=["Gift wrap torn", "b", "c"],
        discovered_at="2026-12-01T02:00Z",
    )  # fmt: skip
    client.force_login(ManagerFactory())

    body = client.get(reverse("themes")).content.decode()

    assert "Billing and refunds" in body and "livr*" in body
    assert "<q>Gift wrap torn</q>" in body
    assert "theme discovery off: INSIGHTS_EMBEDDER=none" in body


def test_a_french_speaking_manager_reads_the_themes_in_french(client):
    ThemeCandidate.objects.create(
        key_phrases=["papier cadeau"], size=3, typical_comments=["Papier déchiré", "b", "c"],
        discovered_at="2026-12-01T02:00Z",
    )  # fmt: skip
    client.force_login(ManagerFactory(language="fr"))

    body = client.get(reverse("themes")).content.decode()

    assert "<h1>Thèmes</h1>" in body
    assert "<h2>Candidats trouvés dans les commentaires sans thème</h2>" in body
    assert '<button type="submit">En faire un thème</button>' in body
    assert "3 commentaires, trouvés le " in body and ". Les trois plus typiques :" in body
    response = client.post(reverse("theme-create"), {"name": "Emballage", "seeds": "papier cadeau"}, follow=True)
    assert '<li class="success">Thème ajouté.</li>' in response.content.decode()


def test_manager_adds_renames_seeds_merges_and_promotes(client):
    client.force_login(ManagerFactory())

    added = client.post(reverse("theme-create"), {"name": "Loyalty", "seeds": "loyalty points\npoints fidélité"})
    assert added.status_code == 302
    assert Theme.objects.get(slug="loyalty").seeds == ["loyalty points", "points fidélité"]

    client.post(reverse("theme-update", args=["loyalty"]), {"name": "Loyalty club", "seeds": "club points"})
    assert (Theme.objects.get(slug="loyalty").name, Theme.objects.get(slug="loyalty").seeds) == (
        "Loyalty club",
        ["club points"],
    )

    client.post(reverse("theme-merge", args=["loyalty"]), {"into": "price"})
    assert not Theme.objects.filter(slug="loyalty").exists()
    assert "club points" in Theme.objects.get(slug="price").seeds

    candidate = ThemeCandidate.objects.create(key_phrases=["gift wrap"], size=3, discovered_at="2026-12-01T02:00Z")
    client.post(reverse("theme-candidate-promote", args=[candidate.pk]))
    assert Theme.objects.filter(slug="gift_wrap").exists()


def test_a_refused_change_shows_the_field_error_and_changes_nothing(client):
    client.force_login(ManagerFactory())

    response = client.post(reverse("theme-create"), {"name": "Delivery"})

    assert response.status_code == 400
    assert "A theme “delivery” already exists." in response.content.decode()
    assert Theme.objects.count() == 6
