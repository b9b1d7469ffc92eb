"""Bad input that only PostgreSQL refused with a 500: a NUL in a respondent's text, an email over 254."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from surveys.models import Answer, Contact, Question, Response
from surveys.services.api_keys import api_key_create
from surveys.tokens import invitation_token
from tests.conftest import BROWSER_USER_AGENT
from tests.factories import InvitationFactory, SurveyFactory, TriggerRuleFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def url(invitation) -> str:
    return f"/s/{invitation_token(invitation.public_id)}/"


def test_nul_in_a_respondents_reason_and_extra_answer_is_a_400_page_on_postgresql():
    invitation = InvitationFactory(survey=SurveyFactory(kind="nps"))
    question = Question.objects.create(survey=invitation.survey, kind="free_text", text={"en": "More?"})
    person = Client(HTTP_USER_AGENT=BROWSER_USER_AGENT)
    person.post(url(invitation), {"score": "3"})

    reason = person.post(url(invitation), {"step": "comment", "comment": "a\x00b"})
    answer = person.post(url(invitation), {"step": "question", "q": str(question.pk), "value": "a\x00b"})

    assert (reason.status_code, answer.status_code) == (400, 400)
    assert Response.objects.get().comment == ""
    assert Answer.objects.count() == 0


def test_email_over_254_characters_is_400_on_postgresql():
    TriggerRuleFactory(event_type="purchase", survey=SurveyFactory())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(name='k')[1]}")

    response = client.post(
        "/api/events/", {"type": "purchase", "contact": {"email": "a" * 250 + "@example.com"}}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"contact.email": ["Ensure this field has no more than 254 characters."]}
    assert Contact.objects.count() == 0
