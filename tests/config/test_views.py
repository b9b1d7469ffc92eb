import pytest

from tests.factories import ManagerFactory


@pytest.mark.django_db
def test_healthz_reports_database_and_unconfigured_broker(client, settings):
    settings.BROKER_CONFIGURED = False

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "not configured"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client, settings, monkeypatch):
    from config.celery_app import app

    settings.BROKER_CONFIGURED = True
    unreachable = "redis://127.0.0.1:1/0"
    # Celery reads CELERY_BROKER_URL from the environment before its configuration (as CI sets it).
    monkeypatch.setenv("CELERY_BROKER_URL", unreachable)
    monkeypatch.setitem(app.conf, "broker_url", unreachable)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["database"] == "ok"
    assert response.json()["broker"].startswith("error: ")


@pytest.mark.django_db
def test_the_not_found_page_speaks_the_readers_language_and_the_api_stays_english(client):
    english = client.get("/nowhere/").content.decode()
    client.force_login(ManagerFactory(email="chef@closeloop.test", language="fr"))

    french = client.get("/nowhere/")
    api = client.get("/api/nowhere/")

    assert '<html lang="en">' in english and "<h1>Not found</h1>" in english
    assert french.status_code == 404
    assert '<html lang="fr">' in french.content.decode()
    assert "<h1>Introuvable</h1>\n<p>Il n&#x27;y a rien à cette adresse.</p>" in french.content.decode()
    assert (api.status_code, api.json()) == (404, {"message": "Not found.", "errors": {}})
