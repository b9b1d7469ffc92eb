import re

import pytest
import time_machine
from django.test import override_settings

from notifications.models import Message
from surveys.models import Branding, Invitation
from surveys.services.dispatch import invitations_dispatch_due, invitations_remind_due
from surveys.tokens import invitation_token
from tests.factories import ContactFactory, InvitationFactory, MessageFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatch(django_capture_on_commit_callbacks):
    """Run the dispatcher; messages go out after its transaction commits, as in production."""

    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return invitations_dispatch_due()

    return run


def _due(**kwargs) -> Invitation:
    return InvitationFactory(status=Invitation.Status.SCHEDULED, **kwargs)


def test_dispatch_email_renders_one_button_per_score_with_links(outbox, dispatch):
    invitation = _due(contact=ContactFactory(email="ann@example.com", name="Ann"))
    assert dispatch() == 1
    token = invitation_token(invitation.public_id)
    [email] = outbox
    assert email.recipient == "ann@example.com"
    assert email.subject == "Acme: a quick question"
    links = re.findall(r'<a href="([^"]+)"[^>]*>(\d+)</a>', email.body_html)
    assert links == [(f"http://testserver/s/{token}/?score={score}", str(score)) for score in range(11)]
    for score in range(11):
        assert f"{score}: http://testserver/s/{token}/?score={score}" in email.body_text
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.QUEUED
    assert invitation.message.status == Message.Status.SENT


def test_dispatch_email_in_french(outbox, dispatch):
    _due(contact=ContactFactory(locale="fr", name="Zoé"), locale="fr")
    dispatch()
    assert outbox[0].subject == "Acme : une petite question"
    assert "Bonjour Zoé" in outbox[0].body_text


@pytest.mark.parametrize(("locale", "greeting"), [("en", "Hi, one tap"), ("fr", "Bonjour, un seul clic")])
def test_dispatch_email_greets_a_contact_without_a_name_without_a_blank(outbox, dispatch, locale, greeting):
    _due(contact=ContactFactory(locale=locale, name=""), locale=locale)
    dispatch()
    assert outbox[0].body_text.startswith(greeting)
    assert greeting in outbox[0].body_html


def test_dispatch_email_unsubscribe_link_opens_the_page_in_the_email_language(outbox, dispatch, client):
    _due(contact=ContactFactory(locale="fr"), locale="fr")
    dispatch()
    [email] = outbox
    url = re.search(r"http://testserver(/u/[\w-]+/\?lang=fr)", email.body_text).group(1)
    assert email.headers["List-Unsubscribe"].startswith(f"<http://testserver{url}>, <mailto:")

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()

    assert ">Me désinscrire</button>" in page


@time_machine.travel("2026-11-02 10:00Z", tick=False)
def test_dispatch_sms_carries_question_scale_link_and_stop(outbox, dispatch):
    invitation = _due(channel="sms", contact=ContactFactory(email="", phone="+33612345678"))
    dispatch()
    token = invitation_token(invitation.public_id)
    [sms] = outbox
    assert sms.recipient == "+33612345678"
    assert "0-10" in sms.body_text
    assert f"http://testserver/s/{token}/" in sms.body_text
    assert sms.body_text.endswith("Reply STOP to opt out")


def test_dispatch_skips_future_and_expires_stale_invitations(outbox, dispatch):
    with time_machine.travel("2026-11-01 10:00Z", tick=False):
        future = _due(scheduled_at="2026-11-02T10:00Z")
        stale = _due(scheduled_at="2026-10-01T10:00Z", expires_at="2026-10-29T10:00Z")
        assert dispatch() == 1
    future.refresh_from_db()
    stale.refresh_from_db()
    assert (future.status, stale.status) == (Invitation.Status.SCHEDULED, Invitation.Status.EXPIRED)
    assert outbox == []


def test_dispatch_twice_sends_once(outbox, dispatch):
    _due()
    assert dispatch() == 1
    assert dispatch() == 0
    assert len(outbox) == 1


@override_settings(SEND_BATCH_SIZE=2)
def test_dispatch_hands_its_messages_to_workers_in_batches(dispatch, monkeypatch):
    from notifications.tasks import send_message, send_messages

    batches = []
    monkeypatch.setattr(send_messages, "delay", batches.append)
    monkeypatch.setattr(send_message, "delay", lambda message_id: pytest.fail("one task per message"))
    with time_machine.travel("2026-11-01 10:00Z", tick=False):
        invitations = [_due(scheduled_at=f"2026-11-01T09:0{minute}Z") for minute in range(3)]
        assert dispatch() == 3
    message_ids = [Invitation.objects.get(id=invitation.id).message_id for invitation in invitations]
    assert batches == [message_ids[:2], message_ids[2:]]


def test_dispatch_batch_sends_each_message_once_even_when_redelivered(outbox, dispatch):
    from notifications.tasks import send_messages

    for _ in range(3):
        _due()
    assert dispatch() == 3
    message_ids = list(Invitation.objects.values_list("message_id", flat=True))
    send_messages.delay(message_ids)
    assert len(outbox) == 3
    assert len({entry.recipient for entry in outbox}) == 3
    assert set(Message.objects.values_list("status", "attempts")) == {(Message.Status.SENT, 1)}


def test_dispatch_five_point_scale_renders_five_buttons(outbox, dispatch):
    _due(survey=SurveyFactory(kind="csat"))
    dispatch()
    assert re.findall(r'\?score=(\d+)"', outbox[0].body_html) == ["1", "2", "3", "4", "5"]


def _sent(survey, **kwargs) -> Invitation:
    invitation = InvitationFactory(survey=survey, **kwargs)
    invitation.message = MessageFactory(
        channel=invitation.channel, recipient=invitation.contact.email or invitation.contact.phone, status="sent"
    )
    invitation.save(update_fields=["message"])
    return invitation


@pytest.fixture
def remind(django_capture_on_commit_callbacks):
    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return invitations_remind_due()

    return run


def test_reminder_goes_once_to_non_responders_after_n_days(outbox, remind):
    survey = SurveyFactory(reminder_after_days=3)
    with time_machine.travel("2026-11-01 10:00Z", tick=False):
        unanswered = _sent(survey, contact=ContactFactory(email="quiet@example.com"))
        answered = _sent(survey)
        ResponseFactory(invitation=answered, survey=survey, contact=answered.contact, score=9)
        _sent(SurveyFactory(), contact=ContactFactory(email="no-reminders@example.com"))
    with time_machine.travel("2026-11-03 10:00Z", tick=False):
        assert remind() == 0
    with time_machine.travel("2026-11-04 10:01Z", tick=False):
        assert remind() == 1
        assert remind() == 0
    [email] = outbox
    assert (email.recipient, email.subject) == ("quiet@example.com", "Reminder: Acme: a quick question")
    assert f"/s/{invitation_token(unanswered.public_id)}/?score=10" in email.body_html
    unanswered.refresh_from_db()
    assert unanswered.reminded_at.isoformat() == "2026-11-04T10:01:00+00:00"


def test_reminder_skips_expired_bounced_and_default_off(outbox, remind):
    survey = SurveyFactory(reminder_after_days=1)
    with time_machine.travel("2026-11-01 10:00Z", tick=False):
        _sent(survey, expires_at="2026-11-02T09:00Z")
        bounced = _sent(survey)
        Message.objects.filter(id=bounced.message_id).update(status="bounced")
        _sent(SurveyFactory())
    with time_machine.travel("2026-11-05 10:00Z", tick=False):
        assert remind() == 0
    assert outbox == []


def test_reminder_sms_waits_for_the_send_window(outbox, remind):
    survey = SurveyFactory(reminder_after_days=1)
    with time_machine.travel("2026-11-01 10:00Z", tick=False):
        _sent(survey, channel="sms", locale="fr", contact=ContactFactory(email="", phone="+33612345678", locale="fr"))
    with time_machine.travel("2026-11-03 02:00Z", tick=False):
        assert remind() == 0
    with time_machine.travel("2026-11-03 10:00Z", tick=False):
        assert remind() == 1
    assert outbox[0].body_text.startswith("Rappel : ")


def _page_buttons(client, invitation: Invitation) -> list[str]:
    page = client.get(f"/s/{invitation_token(invitation.public_id)}/").content.decode()
    return re.findall(r'<span aria-hidden="true">([^<]+)</span>', page)


@pytest.mark.parametrize(
    ("kind", "locale", "shows"),
    [
        ("thumbs", "en", ["\N{THUMBS DOWN SIGN} No", "\N{THUMBS UP SIGN} Yes"]),
        ("thumbs", "fr", ["\N{THUMBS DOWN SIGN} Non", "\N{THUMBS UP SIGN} Oui"]),
        ("five_star", "en", ["1", "2", "3", "4", "5"]),
        ("nps", "en", [str(score) for score in range(11)]),
    ],
)
def test_dispatch_email_buttons_show_what_the_respondent_page_shows(outbox, dispatch, client, kind, locale, shows):
    invitation = _due(survey=SurveyFactory(kind=kind), locale=locale, contact=ContactFactory(locale=locale))
    dispatch()
    [email] = outbox
    link = f"http://testserver/s/{invitation_token(invitation.public_id)}/"
    anchors = re.findall(r'<a href="([^"]+)" aria-label="[^"]+" title="[^"]+"[^>]*>([^<]+)</a>', email.body_html)
    scores = range(len(shows)) if kind in ("thumbs", "nps") else range(1, 6)
    assert anchors == [(f"{link}?score={score}", label) for score, label in zip(scores, shows, strict=True)]
    assert [label for _, label in anchors] == _page_buttons(client, invitation)
    text_lines = [line for line in email.body_text.splitlines() if "?score=" in line]
    assert text_lines == [f"{label}: {link}?score={score}" for score, label in zip(scores, shows, strict=True)]


def test_dispatch_thumbs_email_has_no_number_legend(outbox, dispatch):
    _due(survey=SurveyFactory(kind="thumbs"))
    dispatch()
    assert "0 = No" not in outbox[0].body_text
    assert ">0<" not in outbox[0].body_html and ">1<" not in outbox[0].body_html
    assert "Not at all likely" not in outbox[0].body_html


def test_dispatch_nps_email_names_the_scale_ends(outbox, dispatch):
    _due()
    dispatch()
    assert "(0 = Not at all likely, 10 = Extremely likely)" in outbox[0].body_text
    assert 'aria-label="0: Not at all likely"' in outbox[0].body_html


def test_reminder_email_in_french_for_a_french_contact(outbox, remind):
    survey = SurveyFactory(reminder_after_days=1)
    with time_machine.travel("2026-11-01 10:00Z", tick=False):
        _sent(survey, locale="fr", contact=ContactFactory(email="zoe@example.com", locale="fr", name="Zoé"))
    with time_machine.travel("2026-11-03 10:00Z", tick=False):
        assert remind() == 1
    [email] = outbox
    assert email.subject == "Rappel : Acme : une petite question"
    assert "Ne plus recevoir ces questionnaires: http://testserver/u/" in email.body_text
    assert ">Ne plus recevoir ces questionnaires</a>" in email.body_html


@pytest.mark.parametrize(
    ("kind", "outro"),
    [("thumbs", "Tap your answer. It takes a second."), ("nps", "Tap a number to answer. It takes a second.")],
)
def test_dispatch_email_says_what_to_tap_per_scale(outbox, dispatch, kind, outro):
    _due(survey=SurveyFactory(kind=kind))
    dispatch()
    assert outro in outbox[0].body_text
    assert ("Tap a number" in outbox[0].body_text) is (kind == "nps")


def test_dispatch_fix_check_email_asks_did_we_fix_it_in_the_contact_language(outbox, dispatch):
    survey = SurveyFactory(kind="thumbs", is_fix_check=True)
    _due(survey=survey)
    _due(survey=survey, locale="fr", contact=ContactFactory(locale="fr"))
    dispatch()
    assert sorted(entry.body_text.splitlines()[2] for entry in outbox) == [
        "Avons-nous réglé le problème ?",
        "Did we fix it?",
    ]


@time_machine.travel("2026-03-02 10:00:00+00:00", tick=False)
def test_dispatch_carries_the_survey_s_branding_in_email_and_sms(outbox, dispatch):
    survey = SurveyFactory(kind="nps")
    Branding.objects.create(
        sender_name="Acme",
        sender_email="care@acme.test",
        reply_to="help@acme.test",
        brand_color="#0b6b2b",
        footer="Acme SAS, 1 rue de Paris, 75001 Paris",
        sms_signature="Acme",
    )
    _due(survey=survey)
    _due(survey=survey, channel="sms", contact=ContactFactory(email="", phone="+33612345678"))
    dispatch()

    email = next(m for m in outbox if m.channel == "email")
    sms = next(m for m in outbox if m.channel == "sms")
    assert (email.from_email, email.reply_to) == ("Acme <care@acme.test>", "help@acme.test")
    assert "background:#0b6b2b;color:#ffffff" in email.body_html
    assert "Acme SAS, 1 rue de Paris, 75001 Paris" in email.body_text
    assert "Acme SAS, 1 rue de Paris, 75001 Paris" in email.body_html
    assert sms.body_text.startswith("Acme: How likely are you to recommend")


# --- invitations expire, so that the scans of live ones stay small ---------------------------------------------


def test_invitations_expire_marks_scheduled_and_sent_invitations_past_their_link():
    from datetime import timedelta

    from django.utils import timezone

    from surveys.services.dispatch import invitations_expire

    now = timezone.now()
    sent = InvitationFactory(status=Invitation.Status.QUEUED, expires_at=now - timedelta(seconds=1))
    unsent = InvitationFactory(status=Invitation.Status.SCHEDULED, expires_at=now - timedelta(days=1))
    open_ = InvitationFactory(status=Invitation.Status.QUEUED, expires_at=now + timedelta(days=1))
    cancelled = InvitationFactory(status=Invitation.Status.CANCELLED, expires_at=now - timedelta(days=1))
    assert invitations_expire(now=now) == 2
    statuses = dict(Invitation.objects.values_list("pk", "status"))
    assert statuses == {
        sent.pk: "expired", unsent.pk: "expired", open_.pk: "queued", cancelled.pk: "cancelled",
    }  # fmt: skip
    assert invitations_expire(now=now) == 0


def test_an_expired_invitation_that_went_out_still_counts_against_the_contacts_window(settings):
    from datetime import timedelta

    from django.utils import timezone

    from surveys.services.dispatch import invitations_expire
    from surveys.services.fatigue import contact_is_throttled

    settings.FATIGUE_SURVEY_DAYS = settings.FATIGUE_GLOBAL_DAYS = 30
    now = timezone.now()
    contact = ContactFactory()
    InvitationFactory(
        contact=contact, status=Invitation.Status.QUEUED, message=MessageFactory(status=Message.Status.SENT),
        scheduled_at=now - timedelta(days=29), expires_at=now - timedelta(days=1),
    )  # fmt: skip
    invitations_expire(now=now)
    survey = SurveyFactory()
    assert contact_is_throttled(contact=contact, survey=survey, at=now) is True
    assert contact_is_throttled(contact=contact, survey=survey, at=now, statuses=(Invitation.Status.QUEUED,))
    # One that expired without ever going out does not.
    other = ContactFactory()
    InvitationFactory(contact=other, status=Invitation.Status.SCHEDULED, scheduled_at=now - timedelta(days=29),
                      expires_at=now - timedelta(days=1))  # fmt: skip
    invitations_expire(now=now)
    assert contact_is_throttled(contact=other, survey=survey, at=now) is False


WHATSAPP = {"TWILIO_WHATSAPP_FROM": "+15005550006", "TWILIO_WHATSAPP_CONTENT_SID": "HX" + "e" * 32}


@override_settings(
    **WHATSAPP,
    TWILIO_WHATSAPP_CONTENT_SID_FR="HX" + "f" * 32,
    TWILIO_WHATSAPP_CONTENT_VARIABLES=["product", "link_path", "scale_low", "scale_high"],
)
def test_a_whatsapp_invitation_fills_the_locale_s_template_with_the_variables_named(dispatch, outbox):
    invitation = _due(
        channel="whatsapp",
        locale="fr",
        survey=SurveyFactory(kind="csat", product_name="Acme"),
        contact=ContactFactory(phone="+33612345678", timezone="UTC"),
    )
    with time_machine.travel("2026-12-02 10:00Z"):
        assert dispatch() == 1
    [sent] = outbox
    assert (sent.channel, sent.recipient) == ("whatsapp", "+33612345678")
    assert sent.template == {
        "content_sid": "HX" + "f" * 32,
        "variables": {"1": "Acme", "2": f"{invitation_token(invitation.public_id)}/", "3": "1", "4": "5"},
    }


@override_settings(TWILIO_WHATSAPP_CONTENT_SID="")
def test_a_whatsapp_invitation_without_a_template_is_dropped_with_the_reason(dispatch, outbox):
    invitation = _due(channel="whatsapp", contact=ContactFactory(phone="+33612345678", timezone="UTC"))
    with time_machine.travel("2026-12-02 10:00Z"):
        dispatch()
    invitation.refresh_from_db()
    assert (invitation.status, invitation.cancel_reason) == (
        Invitation.Status.CANCELLED,
        "failed: ImproperlyConfigured",
    )
    assert outbox == []


@override_settings(**WHATSAPP)
def test_a_whatsapp_invitation_waits_for_the_contact_s_quiet_hours_to_end(dispatch, outbox):
    invitation = _due(channel="whatsapp", contact=ContactFactory(phone="+33612345678", timezone="Europe/Paris"))
    with time_machine.travel("2026-12-02 22:00Z"):
        dispatch()
    invitation.refresh_from_db()
    assert (invitation.status, invitation.scheduled_at.isoformat()) == ("scheduled", "2026-12-03T08:00:00+00:00")
    assert outbox == []
