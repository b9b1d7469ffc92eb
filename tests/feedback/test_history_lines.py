"""The lines of a case's history Closeloop writes itself: English in the entry's body (the API reads it),
drawn in the reader's language and time zone on the case page."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from feedback.history_lines import LINES
from feedback.models import FollowUpEntry
from feedback.retention import _closed_cases_purge
from feedback.services.cases import follow_up_assign, follow_up_set_priority, follow_up_set_status
from feedback.services.conversation import follow_up_snooze
from feedback.services.sla import follow_ups_escalate
from feedback.services.timeline import entry_add, entry_add_line
from tests.factories import FollowUpFactory, UserFactory

RESOLVED_AT = datetime(2026, 11, 30, 14, 5, tzinfo=UTC).isoformat()

# slug, values, English, French (the reader's zone is Europe/Paris: the resolution at 14:05 UTC reads 15:05).
CASES = [
    ("assigned", {"email": "lea@acme.test"}, "Assigned to lea@acme.test", "Attribué à lea@acme.test"),
    ("unassigned", {}, "Put back in the team queue", "Remis dans la file de l'équipe"),
    ("routed", {"rule": "#1 NPS → Care"}, "Routed by rule #1 NPS → Care", "Routé par la règle #1 NPS → Care"),
    (
        "rerouted",
        {"rule": "#2 NPS → Billing", "team": "Billing"},
        "Routed by rule #2 NPS → Billing to team Billing",
        "Routé par la règle #2 NPS → Billing vers l'équipe Billing",
    ),
    (
        "moved",
        {"old_team": "Care", "team": "Billing"},
        "Moved from team Care to team Billing",
        "Déplacé de l'équipe Care vers l'équipe Billing",
    ),
    (
        "status",
        {"old_status": "new", "new_status": "waiting"},
        "New → Waiting on customer",
        "Nouveau → En attente du client",
    ),
    (
        "priority",
        {"old_priority": "normal", "new_priority": "high"},
        "Priority Normal → High",
        "Priorité Normale → Haute",
    ),
    (
        "resolved",
        {"cause": "Late delivery", "outcome": "recovered"},
        "Late delivery · Recovered",
        "Late delivery · Client reconquis",
    ),
    (
        "resolved_with_note",
        {"cause": "Late delivery", "outcome": "unreachable", "note": "Left two voicemails"},
        "Late delivery · Unreachable: Left two voicemails",
        "Late delivery · Injoignable : Left two voicemails",
    ),
    ("closed", {"no_longer_unhappy": "csat"}, "Closed: no longer dissatisfied.", "Clos : n'est plus insatisfait."),
    ("not_fixed_reopened", {}, "The customer says it is not fixed.", "Le client dit que le problème n'est pas réglé."),
    (
        "wrote_by_email_reopened",
        {},
        "The customer wrote by email after the resolution.",
        "Le client a écrit par e-mail après la résolution.",
    ),
    (
        "wrote_by_sms_reopened",
        {},
        "The customer wrote by SMS after the resolution.",
        "Le client a écrit par SMS après la résolution.",
    ),
    (
        "wrote_on_whatsapp_reopened",
        {},
        "The customer wrote on WhatsApp after the resolution.",
        "Le client a écrit sur WhatsApp après la résolution.",
    ),
    ("fix_answer_fixed", {"score": 1}, "The customer answered 1: fixed.", "Le client a répondu 1 : réglé."),
    ("fix_answer_not_fixed", {"score": 0}, "The customer answered 0: not fixed.", "Le client a répondu 0 : pas réglé."),
    (
        "fix_answer_fixed_earlier",
        {"score": 1, "resolved_at": RESOLVED_AT},
        "The customer answered 1: fixed. (about the resolution of 30 Nov 2026, 15:05)",
        "Le client a répondu 1 : réglé. (à propos de la résolution du 30 Nov 2026, 15:05)",
    ),
    (
        "fix_answer_not_fixed_earlier",
        {"score": 0, "resolved_at": RESOLVED_AT},
        "The customer answered 0: not fixed. (about the resolution of 30 Nov 2026, 15:05)",
        "Le client a répondu 0 : pas réglé. (à propos de la résolution du 30 Nov 2026, 15:05)",
    ),
    (
        "fix_check_sent",
        {"survey": "Did we fix it?", "channel": "sms"},
        "Did we fix it? by sms.",
        "Did we fix it? par sms.",
    ),
    (
        "fix_check_opted_out",
        {"channel": "email"},
        "Not sent by email: they opted out.",
        "Pas envoyée par email : le client s'est désinscrit.",
    ),
    (
        "fix_check_no_address",
        {"channel": "sms"},
        "Not sent by sms: no address.",
        "Pas envoyée par sms : aucune adresse.",
    ),
    (
        "comment_read",
        {"themes": ["delivery", "price"], "sentiment": "negative"},
        "The comment was read: delivery, price; negative sentiment.",
        "Le commentaire a été lu : delivery, price ; sentiment : négatif.",
    ),
    (
        "comment_read",
        {"themes": [], "sentiment": ""},
        "The comment was read: no theme; no sentiment.",
        "Le commentaire a été lu : aucun thème ; sentiment : aucun.",
    ),
    ("score_changed", {"score": 4}, "The customer changed their score to 4.", "Le client a changé sa note en 4."),
    (
        "reason_given",
        {"comment": "Box arrived crushed"},
        "The customer gave a reason: Box arrived crushed",
        "Le client a donné une raison : Box arrived crushed",
    ),
    ("reason_removed", {}, "The customer removed their reason.", "Le client a retiré sa raison."),
    ("snoozed", {"day": "2026-12-05"}, "Snoozed until Sat 5 Dec 2026", "En pause jusqu'au sam 5 Déc 2026"),
    ("woken", {}, "Woken up", "Sorti de pause"),
    ("sla_reminder", {}, "75% of the SLA has passed.", "75 % du délai (SLA) est écoulé."),
    ("sla_breached", {}, "The SLA is breached.", "Le délai (SLA) est dépassé."),
]


def test_every_line_is_tested():
    assert {case[0] for case in CASES} == set(LINES)


def _page(client, follow_up, language: str) -> str:
    reader = UserFactory(team=follow_up.team, language=language, time_zone="Europe/Paris")
    client.force_login(reader)
    return client.get(reverse("follow-up-detail", args=[follow_up.pk])).content.decode()


@pytest.mark.parametrize(("wording", "values", "english", "french"), CASES)
def test_a_line_reads_in_each_readers_language_and_stays_english_in_the_body(
    client, team, wording, values, english, french
):
    follow_up = FollowUpFactory(team=team)
    entry = entry_add_line(follow_up, FollowUpEntry.Kind.UPDATED, wording, **values)

    # The body is written once, in English and the site's zone (UTC here): 14:05 for the reader's 15:05.
    assert FollowUpEntry.objects.get(pk=entry.pk).body == english.replace("15:05", "14:05")
    assert f" · Updated: {escape(english)}</li>" in _page(client, follow_up, "en")
    assert f" · Modifié : {escape(french)}</li>" in _page(client, follow_up, "fr")


def test_the_services_write_their_lines_and_a_french_reader_reads_them(client, team, agent):
    follow_up = FollowUpFactory(team=team)
    follow_up_assign(follow_up=follow_up, actor=agent, assignee=agent)
    follow_up_set_status(follow_up=follow_up, actor=agent, status="waiting")
    follow_up_set_priority(follow_up=follow_up, actor=agent, priority="high")
    follow_up_snooze(follow_up=follow_up, actor=agent, until=timezone.localdate() + timedelta(days=2))
    follow_up_snooze(follow_up=follow_up, actor=agent, until=None)
    follow_up_assign(follow_up=follow_up, actor=agent, assignee=None)

    lines = list(follow_up.entries.values_list("wording", "body"))
    day = timezone.localdate() + timedelta(days=2)
    assert lines == [
        ("assigned", "Assigned to agent@closeloop.test"),
        ("status", "New → Waiting on customer"),
        ("priority", "Priority Normal → High"),
        ("snoozed", f"Snoozed until {day:%a %-d %b %Y}"),
        ("woken", "Woken up"),
        ("unassigned", "Put back in the team queue"),
    ]
    html = _page(client, follow_up, "fr")
    assert "Attribué par agent@closeloop.test : Attribué à agent@closeloop.test</li>" in html
    assert "Statut modifié par agent@closeloop.test : Nouveau → En attente du client</li>" in html
    assert "Modifié par agent@closeloop.test : Priorité Normale → Haute</li>" in html
    assert "En pause par agent@closeloop.test : Sorti de pause</li>" in html
    assert "Attribué par agent@closeloop.test : Remis dans la file de l&#x27;équipe</li>" in html


def test_the_sla_scan_writes_its_lines_in_english_and_a_french_reader_reads_them(client, team):
    now = timezone.now()
    reminded = FollowUpFactory(team=team, remind_at=now - timedelta(minutes=1), due_at=now + timedelta(hours=1))
    breached = FollowUpFactory(team=team, remind_at=now - timedelta(hours=2), due_at=now - timedelta(minutes=1))

    follow_ups_escalate(now=now)

    assert reminded.entries.get().body == "75% of the SLA has passed."
    assert breached.entries.get().body == "The SLA is breached."
    assert "Rappel de délai (SLA) : 75 % du délai (SLA) est écoulé.</li>" in _page(client, reminded, "fr")
    assert "Escaladé : Le délai (SLA) est dépassé.</li>" in _page(client, breached, "fr")


def test_the_api_reads_the_english_body_whoever_asks(api_client, team):
    follow_up = FollowUpFactory(team=team)
    entry_add_line(follow_up, FollowUpEntry.Kind.SNOOZED, "snoozed", day="2026-12-05")

    case = api_client.get(f"/api/follow-ups/{follow_up.pk}/", HTTP_ACCEPT_LANGUAGE="fr").json()
    thread = api_client.get(f"/api/follow-ups/{follow_up.pk}/thread/", HTTP_ACCEPT_LANGUAGE="fr").json()

    assert [entry["body"] for entry in case["entries"]] == ["Snoozed until Sat 5 Dec 2026"]
    assert [item["text"] for item in thread if item["kind"] == "activity"] == ["Snoozed until Sat 5 Dec 2026"]


def test_a_line_written_before_the_wordings_and_what_people_wrote_read_as_stored(client, team, agent):
    follow_up = FollowUpFactory(team=team)
    entry_add(follow_up, FollowUpEntry.Kind.ESCALATED, body="SLA breached: escalated")
    entry_add(follow_up, FollowUpEntry.Kind.NOTE, author=agent, body="Assigned to the courier, who said yes")

    html = _page(client, follow_up, "fr")

    assert "Escaladé : SLA breached: escalated</li>" in html
    assert "Assigned to the courier, who said yes" in html


def test_a_purged_thread_loses_its_lines_values_with_their_words(client, team):
    follow_up = FollowUpFactory(team=team, status="resolved", resolved_at=timezone.now())
    entry_add_line(follow_up, FollowUpEntry.Kind.UPDATED, "reason_given", comment="My address is 3 rue Haute")

    _closed_cases_purge([follow_up.pk], timezone.now())

    entry = follow_up.entries.get()
    assert (entry.body, entry.wording, entry.wording_values) == ("", "", {})
    assert "3 rue Haute" not in _page(client, follow_up, "fr")
