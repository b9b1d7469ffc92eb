import pytest


@pytest.mark.django_db
def test_healthz_reports_database_and_unconfigured_broker(client, settings):
    settings.BROKER_CONFIGURED = False

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "not configured"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client, settings):
    from config.celery_app import app

    settings.BROKER_CONFIGURED = True
    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = previous

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["database"] == "ok"
    assert response.json()["broker"].startswith("error: ")
