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
        scheduled_at="2026-12-02T09:00Z",
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
    invitation = _due(
        channel="whatsapp",
        contact=ContactFactory(phone="+33612345678", timezone="UTC"),
        scheduled_at="2026-12-02T09:00Z",
    )
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
    invitation = _due(
        channel="whatsapp",
        contact=ContactFactory(phone="+33612345678", timezone="Europe/Paris"),
        scheduled_at="2026-12-02T21:00Z",
    )
    with time_machine.travel("2026-12-02 22:00Z"):
        dispatch()
    invitation.refresh_from_db()
    assert (invitation.status, invitation.scheduled_at.isoformat()) == ("scheduled", "2026-12-03T08:00:00+00:00")
    assert outbox == []


# --- a batch at once: consent, fatigue and the SMS window checked for the whole batch, messages stored together ---


def _batch_of_every_outcome(n: int, survey) -> dict[str, list[Invitation]]:
    """`n` invitations of each outcome a batch may hold, due by 12:00 UTC on 2 December 2026 (13:00 in Paris, in
    the SMS window; 21:00 in Tokyo, past it), each of its own contact."""
    from notifications.models import Suppression

    due = "2026-12-02T11:00Z"
    outcomes: dict[str, list[Invitation]] = {key: [] for key in ("email", "sms", "opted_out", "throttled", "held",
                                                                    "twice", "expired")}  # fmt: skip
    for _ in range(n):
        outcomes["email"].append(_due(survey=survey, scheduled_at=due))
        outcomes["sms"].append(
            _due(survey=survey, scheduled_at=due, channel="sms",
                 contact=ContactFactory(phone=f"+336{len(outcomes['sms']):08d}", timezone="Europe/Paris"))
        )  # fmt: skip
        suppressed = _due(survey=survey, scheduled_at=due)
        Suppression.objects.create(channel="email", recipient=suppressed.contact.email, reason="unsubscribe")
        outcomes["opted_out"].append(suppressed)
        asked = ContactFactory()
        InvitationFactory(contact=asked, status=Invitation.Status.QUEUED, scheduled_at="2026-11-20T09:00Z")
        outcomes["throttled"].append(_due(survey=survey, scheduled_at=due, contact=asked))
        outcomes["held"].append(
            _due(survey=survey, scheduled_at=due, channel="sms",
                 contact=ContactFactory(phone=f"+8190{len(outcomes['held']):08d}", timezone="Asia/Tokyo"))
        )  # fmt: skip
        twice = ContactFactory()
        outcomes["twice"] += [
            _due(survey=survey, scheduled_at="2026-12-02T10:00Z", contact=twice),
            _due(survey=SurveyFactory(), scheduled_at=due, contact=twice),
        ]
        outcomes["expired"].append(
            _due(survey=survey, scheduled_at="2026-11-01T09:00Z", expires_at="2026-11-29T09:00Z")
        )
    return outcomes


@pytest.mark.parametrize("n", [1, 6])
def test_a_batch_is_checked_rendered_and_queued_in_statements_that_do_not_grow_with_it(
    n, settings, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.FATIGUE_SURVEY_DAYS = settings.FATIGUE_GLOBAL_DAYS = 30
    survey = SurveyFactory()
    with time_machine.travel("2026-12-02 12:00Z", tick=False):
        outcomes = _batch_of_every_outcome(n, survey)
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as enqueued:
            assert invitations_dispatch_due() == 8 * n
    # Claim, consent, fatigue, branding, the messages' consent and INSERT, expired, dropped, held, queued; the
    # transaction and the messages' savepoint around them: the same for one invitation of each kind as for six.
    assert len(queries) == 14, "\n".join(q["sql"][:70] for q in queries)
    assert len(enqueued) == 1  # the send batches, handed to the broker once the claim commits
    statuses = dict(Invitation.objects.values_list("pk", "status"))
    reasons = dict(Invitation.objects.values_list("pk", "cancel_reason"))
    for kind, status, reason in (
        ("email", "queued", ""), ("sms", "queued", ""), ("opted_out", "cancelled", "opted_out"),
        ("throttled", "cancelled", "throttled"), ("held", "scheduled", ""), ("expired", "expired", ""),
    ):  # fmt: skip
        assert {(statuses[i.pk], reasons[i.pk]) for i in outcomes[kind]} == {(status, reason)}, kind
    # Of one contact's two due invitations the earlier goes; the later counts it and is throttled.
    assert [(statuses[i.pk], reasons[i.pk]) for i in outcomes["twice"]] == [
        ("queued", ""),
        ("cancelled", "throttled"),
    ] * n
    # Tokyo's night: held until its window opens at 09:00 there.
    held = Invitation.objects.filter(pk__in=[i.pk for i in outcomes["held"]])
    assert {i.scheduled_at.isoformat() for i in held} == {"2026-12-03T00:00:00+00:00"}
    batch = [i.pk for kind in outcomes.values() for i in kind]
    sent = Invitation.objects.filter(pk__in=batch, status="queued").select_related("message", "contact")
    assert len(sent) == 3 * n
    assert all(i.message.recipient in (i.contact.email, i.contact.phone) for i in sent)
    assert all(i.message.status == Message.Status.QUEUED and i.message.recipient_key for i in sent)
    assert Message.objects.count() == 3 * n


def test_each_invitation_of_a_batch_is_weighed_by_its_own_survey_s_windows(dispatch, settings):
    settings.FATIGUE_SURVEY_DAYS = settings.FATIGUE_GLOBAL_DAYS = 30
    support = SurveyFactory(fatigue_survey_days=1, fatigue_global_days=0)  # after each ticket, whatever else
    asked_before = [ContactFactory() for _ in range(2)]
    for contact in asked_before:
        InvitationFactory(contact=contact, status=Invitation.Status.QUEUED, scheduled_at="2026-11-30T10:00Z")
    after_ticket = _due(survey=support, contact=asked_before[0], scheduled_at="2026-12-02T09:00Z")
    nps = _due(contact=asked_before[1], scheduled_at="2026-12-02T09:00Z")
    with time_machine.travel("2026-12-02 10:00Z", tick=False):
        assert dispatch() == 2
    assert Invitation.objects.get(pk=after_ticket.pk).status == "queued"
    assert Invitation.objects.get(pk=nps.pk).cancel_reason == "throttled"


def test_a_fatigue_exempt_invitation_goes_beside_another_of_the_same_contact(outbox, dispatch, settings):
    from surveys.services.fatigue import FATIGUE_EXEMPT_PROPERTY

    settings.FATIGUE_SURVEY_DAYS = settings.FATIGUE_GLOBAL_DAYS = 30
    contact = ContactFactory()
    first = _due(contact=contact, scheduled_at="2026-12-02T08:00Z")
    fix_check = _due(contact=contact, scheduled_at="2026-12-02T09:00Z", properties={FATIGUE_EXEMPT_PROPERTY: True})
    with time_machine.travel("2026-12-02 10:00Z", tick=False):
        assert dispatch() == 2
    assert {Invitation.objects.get(pk=i.pk).status for i in (first, fix_check)} == {"queued"}
    assert len(outbox) == 2


def test_a_dispatcher_that_dies_before_committing_leaves_its_batch_due_and_sends_nothing(outbox, dispatch, monkeypatch):
    from surveys.services import dispatch as dispatch_module

    invitations = [_due() for _ in range(3)]
    real_write = dispatch_module._invitations_write

    def die_at_the_last_write(rows, fields):
        if "message" in fields:
            raise SystemExit("killed")
        real_write(rows, fields)

    monkeypatch.setattr(dispatch_module, "_invitations_write", die_at_the_last_write)
    with pytest.raises(SystemExit):
        dispatch()
    assert set(Invitation.objects.values_list("status", "message_id")) == {("scheduled", None)}
    assert (Message.objects.count(), outbox) == (0, [])

    monkeypatch.setattr(dispatch_module, "_invitations_write", real_write)
    assert dispatch() == 3
    assert dispatch() == 0
    assert sorted(m.recipient for m in outbox) == sorted(i.contact.email for i in invitations)


def test_when_the_batch_s_insert_fails_each_message_is_queued_alone_and_only_the_bad_one_dropped(
    outbox, dispatch, monkeypatch, caplog
):
    from django.db import DataError

    from surveys.services import dispatch as dispatch_module

    good = [_due(contact=ContactFactory(email=f"good{n}@example.com")) for n in range(2)]
    bad = _due(contact=ContactFactory(email="bad@example.com"))
    real_queue = dispatch_module.message_queue

    def refuse_bad(**content):
        if content["recipient"] == "bad@example.com":
            raise DataError("value too long")
        return real_queue(**content)

    monkeypatch.setattr(dispatch_module, "messages_queue", lambda contents: (_ for _ in ()).throw(DataError("batch")))
    monkeypatch.setattr(dispatch_module, "message_queue", refuse_bad)
    assert dispatch() == 3
    assert Invitation.objects.get(pk=bad.pk).cancel_reason == "failed: DataError"
    assert {Invitation.objects.get(pk=i.pk).status for i in good} == {"queued"}
    assert sorted(m.recipient for m in outbox) == ["good0@example.com", "good1@example.com"]
    assert "queuing them one by one" in caplog.text


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("kind", ["nps", "csat", "thumbs"])
def test_an_email_rendered_from_its_survey_s_compiled_email_is_the_template_s_own_rendering(locale, kind, monkeypatch):
    """Names that HTML must escape, no name, a reminder: each equals the template rendered with its own values."""
    from notifications.services.emails import email_render
    from surveys.branding import branding_for
    from surveys.services import dispatch as dispatch_module

    Branding.objects.create(survey=None, footer="Acme & Co\n<Paris>", sender_name="Acme")
    survey = SurveyFactory(kind=kind, product_name='Tom & "Jerry"')
    tokens = iter(f"tok{n}-&<'\"" for n in range(100))
    monkeypatch.setattr(dispatch_module, "unsubscribe_token_new", lambda: (token := next(tokens), f"hash-{token}"))
    renderer = dispatch_module.InvitationRenderer()
    for name, reminder, product in [("Ann", False, ""), ('<b>O\'Neil & "Bo"</b>', False, ""), ("", False, ""),
                                    ("Zoé", True, ""), ("Ann", False, "Widget <2>")]:  # fmt: skip
        invitation = _due(survey=survey, locale=locale, contact=ContactFactory(name=name),
                          properties={"question_product_name": product} if product else {})  # fmt: skip
        content = renderer.render(invitation, reminder=reminder)
        token = content["unsubscribe_hash"].removeprefix("hash-")
        expected = email_render(
            template="surveys/invitation_email",
            context=dispatch_module._email_context(
                invitation, brand=branding_for(survey.pk), question=survey.question(locale, product),
                product_name=product, reminder=reminder, name=name, link=dispatch_module.survey_link(invitation),
                unsubscribe=token,
            ),
        )  # fmt: skip
        assert (content["subject"], content["body_text"], content["body_html"]) == expected
        assert "\ue000" not in content["body_text"] + content["body_html"]
