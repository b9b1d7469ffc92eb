import pytest
import time_machine
from django.test import override_settings
from twilio.request_validator import RequestValidator

from notifications.models import Channel
from surveys.models import Invitation, Response
from tests.factories import ContactFactory, InvitationFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db

TOKEN = "twilio-test-token"
PHONE = "+33612345678"


@pytest.fixture
def reply(client, django_capture_on_commit_callbacks):
    """An inbound SMS from PHONE through the signed Twilio webhook; replies go out after commit."""
    sids = iter(range(1, 100))

    def send(body: str) -> None:
        params = {"MessageSid": f"SM{next(sids)}", "From": PHONE, "Body": body}
        with override_settings(TWILIO_AUTH_TOKEN=TOKEN), django_capture_on_commit_callbacks(execute=True):
            signature = RequestValidator(TOKEN).compute_signature("http://testserver/webhooks/twilio/sms/", params)
            assert client.post("/webhooks/twilio/sms/", params, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 200

    return send


def _sms_invitation(**kwargs) -> Invitation:
    contact = kwargs.pop("contact", None) or ContactFactory(email="", phone=PHONE)
    return InvitationFactory(channel=Channel.SMS, contact=contact, **kwargs)


def test_sms_reply_score_then_reason_then_thanks(reply, outbox):
    invitation = _sms_invitation()
    reply(" 4 ")
    response = Response.objects.get(invitation=invitation)
    assert (response.score, response.comment) == (4, "")
    reply("The parcel came a week late")
    response.refresh_from_db()
    assert response.comment == "The parcel came a week late"
    reply("and it was broken")
    response.refresh_from_db()
    assert response.comment == "The parcel came a week late"
    assert [entry.body_text for entry in outbox] == [
        "What is the main reason for your score?",
        "Thank you for your feedback!",
    ]
    assert {entry.recipient for entry in outbox} == {PHONE}


def test_sms_reply_in_french(reply, outbox):
    invitation = _sms_invitation(locale="fr", contact=ContactFactory(email="", phone=PHONE, locale="fr"))
    reply("9")
    reply("Livraison rapide")
    assert Response.objects.get(invitation=invitation).comment == "Livraison rapide"
    assert [entry.body_text for entry in outbox] == [
        "Quelle est la raison principale de votre note ?",
        "Merci pour votre avis !",
    ]


def test_sms_reply_goes_to_the_latest_open_invitation(reply):
    with time_machine.travel("2026-11-01 10:00Z"):
        older = _sms_invitation(scheduled_at="2026-10-01T10:00Z")
        latest = _sms_invitation(scheduled_at="2026-10-20T10:00Z", contact=older.contact)
        _sms_invitation(scheduled_at="2026-10-25T10:00Z", contact=older.contact, expires_at="2026-10-30T10:00Z")
        reply("10")
    assert list(Response.objects.values_list("invitation_id", "score")) == [(latest.id, 10)]


def test_sms_reply_out_of_scale_or_without_invitation_records_nothing(reply, outbox):
    reply("9")
    _sms_invitation()
    reply("11")
    reply("great")
    assert Response.objects.count() == 0
    assert outbox == []


def test_sms_reply_changes_score_without_asking_again_once_commented(reply, outbox):
    invitation = _sms_invitation()
    ResponseFactory(invitation=invitation, survey=invitation.survey, contact=invitation.contact, score=3,
                    comment="slow")  # fmt: skip
    reply("8")
    assert Response.objects.get().score == 8
    assert outbox == []


def test_sms_stop_never_reaches_the_survey(reply):
    _sms_invitation()
    reply("STOP")
    assert Response.objects.count() == 0


def test_sms_reply_fix_check_yes_asks_no_reason_and_no_asks_what_is_not_fixed(reply, outbox):
    survey = SurveyFactory(kind="thumbs", is_fix_check=True)
    yes = _sms_invitation(survey=survey)
    reply("1")
    assert Response.objects.get(invitation=yes).score == 1
    assert outbox == []
    yes.status = Invitation.Status.EXPIRED
    yes.save()
    _sms_invitation(survey=survey, contact=yes.contact)
    reply("0")
    assert [entry.body_text for entry in outbox] == ["What is still not fixed?"]
