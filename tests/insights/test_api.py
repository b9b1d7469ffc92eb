import pytest
from rest_framework.test import APIClient

from insights.models import Theme, ThemeCandidate
from surveys.services.api_keys import api_key_create
from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_api():
    client = APIClient()
    client.force_authenticate(ManagerFactory())
    return client


def _key(scopes):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + api_key_create(name="k", scopes=scopes)[1])
    return client


@pytest.mark.parametrize(
    ("who", "status"),
    [("manager", 200), ("agent", 403), ("anonymous", 401), ("admin key", 200), ("read key", 403)],
)
def test_themes_api_permission_cast(who, status):
    client = APIClient()
    if who == "manager":
        client.force_authenticate(ManagerFactory())
    elif who == "agent":
        client.force_authenticate(UserFactory())
    elif who == "admin key":
        client = _key(["admin"])
    elif who == "read key":
        client = _key(["responses:read"])
    assert client.get("/api/themes/").status_code == status
    assert client.get("/api/theme-candidates/").status_code == status


def test_list_create_rename_seed_merge_and_delete(manager_api):
    listed = manager_api.get("/api/themes/").json()
    assert [t["slug"] for t in listed["themes"]][:2] == ["delivery", "price"]
    assert listed["status"]["discovery"] in (True, False)

    created = manager_api.post("/api/themes/", {"name": "Loyalty", "seeds": ["loyalty points"]}, format="json")
    assert created.status_code == 201
    assert created.json()["slug"] == "loyalty"

    patched = manager_api.patch(
        "/api/themes/loyalty/", {"name": "Loyalty programme", "add_seeds": ["points fidélité"]}, format="json"
    )
    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["seeds"]) == (
        "Loyalty programme",
        ["loyalty points", "points fidélité"],
    )

    merged = manager_api.post("/api/themes/loyalty/merge/", {"into": "price"}, format="json")
    assert merged.status_code == 200
    assert "loyalty points" in merged.json()["seeds"]
    assert manager_api.get("/api/themes/loyalty/").status_code == 404

    assert manager_api.delete("/api/themes/price/").status_code == 204
    assert not Theme.objects.filter(slug="price").exists()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"name": ""}, ["name"]),
        ({"name": "Delivery"}, ["slug"]),
        ({"name": "X", "seeds": "not a list"}, ["seeds"]),
        ({"name": "X", "seeds": ["ok", "*"]}, ["seeds"]),
        ({"name": "X\x00"}, ["name"]),
    ],
)
def test_create_refuses_bad_input_with_field_errors(manager_api, body, errors):
    response = manager_api.post("/api/themes/", body, format="json")
    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == errors
    assert Theme.objects.count() == 6


def test_merge_into_an_unknown_theme_is_a_field_error(manager_api):
    response = manager_api.post("/api/themes/price/merge/", {"into": "nope"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["into"]


def test_candidates_are_listed_promoted_and_dismissed(manager_api):
    first = ThemeCandidate.objects.create(
        key_phrases=["gift wrap"], size=3, typical_comments=["a", "b", "c"], discovered_at="2026-12-01T02:00Z"
    )
    second = ThemeCandidate.objects.create(key_phrases=["opening hours"], size=3, discovered_at="2026-12-01T02:00Z")

    listed = manager_api.get("/api/theme-candidates/").json()["candidates"]
    assert [c["key_phrases"] for c in listed] == [["gift wrap"], ["opening hours"]]

    promoted = manager_api.post(f"/api/theme-candidates/{first.pk}/promote/", {}, format="json")
    assert promoted.status_code == 201
    assert promoted.json()["slug"] == "gift_wrap"
    dismissed = manager_api.post(f"/api/theme-candidates/{second.pk}/dismiss/")
    assert dismissed.json()["status"] == "dismissed"
    again = manager_api.post(f"/api/theme-candidates/{second.pk}/dismiss/")
    assert again.status_code == 400
    assert manager_api.get("/api/theme-candidates/").json()["candidates"] == []
