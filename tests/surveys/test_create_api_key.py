import pytest
from django.core.management import call_command

from surveys.models import ApiKey
from surveys.selectors import api_key_get_active
from surveys.tokens import token_hash
from tests.factories import SurveyFactory

pytestmark = pytest.mark.django_db


def test_create_api_key_prints_key_last_and_stores_only_hash(capsys):
    survey = SurveyFactory(name="NPS")

    call_command("create_api_key", "--name", "shop")

    lines = capsys.readouterr().out.strip().splitlines()
    raw = lines[-1]
    api_key = ApiKey.objects.get()
    assert raw.startswith("cl_")
    assert api_key.key_hash == token_hash(raw)
    assert raw not in {api_key.name, api_key.prefix, api_key.key_hash}
    assert api_key.prefix == raw[:10]
    assert api_key.scopes == ["events:write", "responses:read", "admin", "follow_ups:read", "follow_ups:write"]
    assert api_key.survey == survey
    assert api_key_get_active(raw_key=raw) == api_key


def test_create_api_key_with_scopes_and_survey(capsys):
    SurveyFactory(name="NPS")
    csat = SurveyFactory(name="CSAT", kind="csat")

    call_command("create_api_key", "--name", "reader", "--survey", "CSAT", "--scopes", "responses:read")

    api_key = ApiKey.objects.get()
    assert api_key.scopes == ["responses:read"]
    assert api_key.survey == csat


def test_create_api_key_with_follow_up_scopes(capsys):
    call_command("create_api_key", "--name", "helpdesk", "--scopes", "follow_ups:read,follow_ups:write")

    assert ApiKey.objects.get().scopes == ["follow_ups:read", "follow_ups:write"]
    assert "Created API key 'helpdesk' (follow_ups:read, follow_ups:write)." in capsys.readouterr().out
