"""Extreme query parameters on the staff pages are a 400 with the field's message, never a 500."""

import pytest
from django.test import Client

from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client():
    client = Client()
    client.force_login(ManagerFactory())
    return client


@pytest.mark.parametrize("path", ["/follow-ups/", "/dashboard/", "/dashboard/export/responses.csv"])
def test_a_survey_id_beyond_64_bits_is_a_400(manager_client, path):
    page = manager_client.get(path, {"survey": "99999999999999999999"})

    assert page.status_code == 400


@pytest.mark.parametrize(
    ("start", "end"),
    [("0001-01-01", "0001-01-05"), ("9999-12-20", "9999-12-31"), ("0001-01-01", "0001-01-01")],
)
@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/export/responses.csv", "/dashboard/export/follow-ups.csv"])
def test_a_custom_period_at_the_ends_of_the_calendar_is_a_400(manager_client, path, start, end):
    page = manager_client.get(path, {"period": "custom", "start": start, "end": end})

    assert page.status_code == 400
    assert "Pick days between" in page.content.decode()
