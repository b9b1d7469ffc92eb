import pytest
from django.core.exceptions import ValidationError

from surveys.services.publishable_keys import (
    origin_normalize,
    publishable_key_create,
    publishable_key_revoke,
    publishable_key_update,
)
from tests.factories import SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("given", "origin"),
    [
        ("https://App.Example.com", "https://app.example.com"),
        ("https://app.example.com/", "https://app.example.com"),
        ("https://app.example.com:443", "https://app.example.com"),
        ("http://127.0.0.1:8001", "http://127.0.0.1:8001"),
        ("http://[::1]:80", "http://[::1]"),
    ],
)
def test_origins_are_kept_as_browsers_send_them(given, origin):
    assert origin_normalize(given) == origin


@pytest.mark.parametrize(
    "given", ["app.example.com", "ftp://app.example.com", "https://app.example.com/path", "https://a.example/?q", ""]
)
def test_what_is_not_an_origin_is_refused(given):
    with pytest.raises(ValueError):
        origin_normalize(given)


def test_a_key_is_public_prefixed_and_keeps_its_cleaned_origins():
    key = publishable_key_create(
        name=" App ",
        survey=SurveyFactory(),
        allowed_origins=["https://app.example.com/", "https://APP.example.com"],
        sample_factor=0.5,
    )

    assert key.key.startswith("pk_") and len(key.key) == 35
    assert (key.name, key.allowed_origins, key.sample_factor) == ("App", ["https://app.example.com"], 0.5)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"allowed_origins": []}, "allowed_origins"),
        ({"allowed_origins": "https://a.example"}, "allowed_origins"),
        ({"allowed_origins": ["nope"]}, "allowed_origins"),
        ({"allowed_origins": [f"https://a{n}.example" for n in range(21)]}, "allowed_origins"),
        ({"sample_factor": 1.5}, "sample_factor"),
        ({"recurring_period_days": -1}, "recurring_period_days"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_settings_name_their_field(changes, field):
    with pytest.raises(ValidationError) as refused:
        publishable_key_create(
            **{"name": "App", "survey": SurveyFactory(), "allowed_origins": ["https://a.example"]} | changes
        )

    assert list(refused.value.message_dict) == [field]


def test_update_changes_origins_but_never_the_key_and_revoke_is_once():
    key = publishable_key_create(name="App", survey=SurveyFactory(), allowed_origins=["https://a.example"])
    value = key.key

    publishable_key_update(publishable_key=key, allowed_origins=["https://b.example"], recurring_period_days=30)
    with pytest.raises(ValidationError) as refused:
        publishable_key_update(publishable_key=key, key="pk_mine")
    revoked_at = publishable_key_revoke(publishable_key=key).revoked_at

    key.refresh_from_db()
    assert (key.key, key.allowed_origins, key.recurring_period_days) == (value, ["https://b.example"], 30)
    assert refused.value.message_dict == {"key": ["This field cannot be changed."]}
    assert publishable_key_revoke(publishable_key=key).revoked_at == revoked_at
