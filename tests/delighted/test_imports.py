import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from delighted import imports
from delighted.export_files import ExportFileError
from delighted.imports import ExportFile, delighted_import_create, delighted_import_run, export_records, records_import
from delighted.models import DelightedImport, DelightedImportFile, DelightedRecord
from feedback.models import FollowUp
from insights.models import FunnelRollup
from insights.rollups import full_score_rollup_rows, rollup_refresh_funnel, stored_score_rollup_rows
from integrations.models import WebhookDelivery, WebhookSubscription
from notifications.models import Suppression
from surveys.delighted_json import response_json
from surveys.models import Answer, Contact, Invitation, Question, Response, ResponseAnnouncement, Survey
from surveys.services.api_keys import api_key_create
from surveys.services.privacy import contact_erase
from surveys.services.scheduling import SkipReason, invitation_schedule
from tests.factories import ContactFactory
from tests.fakes.delighted_export import delighted_responses, pages

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
ALL_FILES = [
    "survey_responses_expanded.json",
    "survey_responses.json",
    "people.json",
    "unsubscribes.json",
    "bounces.json",
    "responses.csv",
]


def _file(name: str) -> ExportFile:
    return ExportFile(name, (FIXTURES / name).read_text())


def _import(*names: str, default_survey_type: str = "nps"):
    records = export_records([_file(name) for name in names], default_survey_type=default_survey_type)
    return records_import(records, default_survey_type=default_survey_type)


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def test_an_expanded_response_keeps_score_comment_times_properties_notes_tags_and_additional_answers():
    _import("survey_responses_expanded.json")

    response = Response.objects.select_related("contact", "invitation", "survey").get(
        pk=DelightedRecord.objects.get(kind="response", delighted_id="501").object_id
    )
    assert (response.score, response.comment) == (3, "The delivery was two weeks late and nobody answered my emails.")
    assert (response.confirmed_at, response.updated_at) == (_at(1713418460), _at(1713504860))
    assert response.tags == ["delivery", "refund"]
    assert response.invitation.properties == {
        "purchase_experience": "Retail Store",
        "country": "USA",
        "Delighted Source": "Email",
    }
    assert (response.contact.email, response.contact.name) == ("jony@appleseed.com", "Jony Appleseed")
    assert list(response.notes.values_list("text", "user_email", "created_at")) == [
        ("Called him back, refund sent.", "support@appleseed.com", _at(1713500000))
    ]
    answers = {a.question.text["en"]: (a.question.kind, a.value) for a in response.answers.select_related("question")}
    assert answers == {
        "What specifically did you enjoy about your experience with us?": ("select_many", ["DxmjNj", "uNQIig"]),
        "Have you purchased from us in the past?": ("select_one", "tp0Q4K"),
        "Anything else we could do better?": ("free_text", "Faster shipping please"),
    }
    # The choices seen across the export (503 answered "No") become the question's options.
    assert Question.objects.get(text={"en": "Have you purchased from us in the past?"}).choices == [
        {"value": "tp0Q4K", "en": "Yes"},
        {"value": "kQ81zZ", "en": "No"},
    ]
    assert (response.survey.name, response.survey.kind, response.survey.is_active) == (
        "NPS history from Delighted",
        "nps",
        False,
    )
    # The answer hangs on an invitation never sent and closed at once: no link reaches it.
    invitation = response.invitation
    assert (invitation.status, invitation.cancel_reason, invitation.message_id) == ("expired", "imported", None)
    assert invitation.expires_at == _at(1713418460)
    # The comment is read by the comment analysis, as a new answer's is.
    assert response.analysis_pending is True


@override_settings(RETENTION_COMMENTS_DAYS="forever")
def test_comments_kept_forever_are_not_reported_as_past_retention():
    summary = _import("survey_responses_expanded.json")

    assert "comments_past_retention" not in summary.as_json()["imported"]
    assert not any("RETENTION_COMMENTS_DAYS" in line for line in summary.lines())


def test_a_response_without_updated_at_takes_its_creation_time():
    _import("survey_responses_expanded.json")

    response = Response.objects.get(pk=DelightedRecord.objects.get(kind="response", delighted_id="502").object_id)
    assert (response.updated_at, response.comment, response.invitation.properties) == (_at(1713497396), "", {})
    assert (response.contact.phone, response.invitation.channel) == ("+16175551212", "email")


def test_imported_history_opens_no_case_and_announces_nothing():
    WebhookSubscription.objects.create(
        name="crm", url="https://crm.example.com/hook", secret="s3cret", events=["survey_response.created"]
    )

    _import(*ALL_FILES)

    assert Response.objects.filter(score__lte=6, survey__kind="nps").count() == 2  # detractors, yet no case
    assert (FollowUp.objects.count(), ResponseAnnouncement.objects.count(), WebhookDelivery.objects.count()) == (
        0,
        0,
        0,
    )


def test_imported_history_is_counted_in_the_rollups_and_in_v1_metrics():
    _import(*ALL_FILES)

    assert stored_score_rollup_rows() == full_score_rollup_rows()
    raw = api_key_create(name="metrics")[1]  # no default survey: every NPS survey, as a Delighted account
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{raw}:".encode()).decode())
    body = client.get("/v1/metrics", {"since": 1700000000, "until": 1720000000}).json()
    # NPS answers: 3 and 10 (JSON), 8 (second page), 9 and 4 (CSV); the pmf one and the 11 are skipped.
    assert body == {
        "nps": 0,
        "promoter_count": 2,
        "promoter_percent": 40.0,
        "passive_count": 1,
        "passive_percent": 20.0,
        "detractor_count": 2,
        "detractor_percent": 40.0,
        "response_count": 5,
    }


def test_the_delivery_funnel_leaves_imported_invitations_out():
    _import("survey_responses_expanded.json")

    assert rollup_refresh_funnel() == 0
    assert FunnelRollup.objects.count() == 0


def test_the_summary_says_what_was_imported_and_what_was_skipped_where():
    summary = _import(*ALL_FILES)

    assert summary.as_json() == {
        "imported": {
            "people": 2,
            "responses": 7,
            "comments_past_retention": 5,  # answered in 2024, more than RETENTION_COMMENTS_DAYS (730) ago
            "notes": 2,
            "additional_answers": 4,
            "unsubscribes": 2,
            "bounces": 1,
        },
        "skipped": {
            "no_address": 1,
            "unknown_survey_type": 1,
            "bad_score": 1,
            "bad_time": 1,
            "no_email": 1,
        },
        "examples": {
            "no_address": ["people.json line 4"],
            "unknown_survey_type": ["survey_responses_expanded.json line 84"],
            "bad_score": ["survey_responses_expanded.json line 98"],
            "bad_time": ["responses.csv line 5"],
            "no_email": ["unsubscribes.json line 6"],
        },
        "surveys": ["NPS history from Delighted", "CSAT history from Delighted"],
    }


def test_importing_the_same_files_again_imports_nothing_twice():
    _import(*ALL_FILES)
    counts = (Response.objects.count(), Contact.objects.count(), Suppression.objects.count(), Survey.objects.count())

    again = _import(*ALL_FILES)

    assert counts == (7, 7, 3, 2)
    assert (
        Response.objects.count(),
        Contact.objects.count(),
        Suppression.objects.count(),
        Survey.objects.count(),
    ) == counts
    assert again.as_json()["imported"] == {}
    assert again.as_json()["skipped"] == {
        "already_imported": 9,  # 7 responses and the 2 people
        "already_suppressed": 3,
        "no_address": 1,
        "unknown_survey_type": 1,
        "bad_score": 1,
        "bad_time": 1,
        "no_email": 1,
    }
    assert stored_score_rollup_rows() == full_score_rollup_rows()


def test_responses_naming_their_person_by_id_find_them_in_the_people_export_whatever_the_files_order():
    _import("survey_responses.json", "people.json")

    by_delighted_id = {
        r.delighted_id: Response.objects.get(pk=r.object_id) for r in DelightedRecord.objects.filter(kind="response")
    }
    assert (by_delighted_id["601"].contact.email, by_delighted_id["601"].contact.name) == (
        "linus@example.com",
        "Linus T",
    )
    # A person with a phone only was surveyed by SMS.
    assert (by_delighted_id["602"].contact.phone, by_delighted_id["602"].invitation.channel) == ("+33612345678", "sms")
    assert by_delighted_id["601"].survey.kind == "csat"


def test_a_person_first_known_by_id_gets_their_address_when_the_people_export_comes_later():
    _import("survey_responses.json")
    contact = Response.objects.get(score=2).contact
    assert (contact.email, contact.phone) == ("", "")

    _import("people.json")

    contact.refresh_from_db()
    assert (contact.email, contact.name) == ("linus@example.com", "Linus T")
    assert Contact.objects.count() == 2


def test_an_existing_contact_is_matched_by_email_whatever_its_case():
    existing = ContactFactory(email="Jony@Appleseed.com", name="")

    _import("survey_responses_expanded.json")

    assert Response.objects.filter(contact=existing).count() == 1
    existing.refresh_from_db()
    assert existing.name == "Jony Appleseed"


@pytest.mark.parametrize("hard", [True, False])
def test_a_person_erased_here_is_not_brought_back_by_a_later_import(hard):
    _import("survey_responses_expanded.json")
    erased = Contact.objects.get(email="jony@appleseed.com")
    contact_erase(contact=erased, hard=hard)

    again = _import("survey_responses_expanded.json")

    assert not Contact.objects.filter(email="jony@appleseed.com").exists()
    assert again.skipped["already_imported"] == 3
    # Kept as a contact of anonymous scores, it is never filled in again either.
    assert list(Contact.objects.filter(pk=erased.pk).values_list("email", "name")) == ([] if hard else [("", "")])


def test_unsubscribes_and_bounces_stop_the_next_survey_at_once():
    _import("unsubscribes.json", "bounces.json")

    assert set(Suppression.objects.values_list("recipient", "reason", "source", "created_at")) == {
        ("jony@appleseed.com", "unsubscribe", "delighted_import", _at(1713900000)),
        ("gone@example.com", "unsubscribe", "delighted_import", _at(1700000000)),
        ("bounced@example.com", "bounce", "delighted_import", _at(1701000000)),
    }
    survey = Survey.objects.create(name="Live NPS", kind="nps")
    for email in ("gone@example.com", "bounced@example.com"):
        outcome = invitation_schedule(contact=ContactFactory(email=email), survey=survey, channel_choice="email")
        assert (outcome.invitation, outcome.skipped) == (None, SkipReason.OPTED_OUT)


def test_a_file_that_is_not_an_export_is_refused_before_anything_is_written():
    good = _file("people.json")
    bad = ExportFile("responses-2.json", '[{"id": "1", "person": "2", "score": 9}\n{"id": "3"}]')

    with pytest.raises(ExportFileError) as error:
        delighted_import_create(files=[good, bad], default_survey_type="nps", started_by="me")

    assert str(error.value) == "responses-2.json line 2: expected , or ] after an item."
    assert (DelightedImport.objects.count(), Contact.objects.count()) == (0, 0)


def _responses(first_id: int, n: int) -> ExportFile:
    items = [
        {
            "id": str(first_id + i),
            "person": {"id": f"p{first_id + i}", "email": f"p{first_id + i}@example.com", "name": None},
            "survey_type": "nps",
            "score": i % 11,
            "comment": f"comment {i}" if i % 3 else None,
            "created_at": 1700000000 + 86400 * (i % 40),
            "updated_at": None,
            "person_properties": {"plan": "pro"},
            "notes": [{"text": "called", "user_email": None, "created_at": 1700000100}] if i % 5 == 0 else [],
            "tags": ["a"],
            "additional_answers": [
                {"value": {"scale": i % 5 + 1}, "question": {"id": "q1", "type": "scale", "text": "Effort?"}}
            ],
        }
        for i in range(n)
    ]
    return ExportFile(f"page-{first_id}.json", json.dumps(items))


def test_an_import_writes_in_bulk_not_one_statement_per_record():
    records_import(export_records([_responses(1, 10)], default_survey_type="nps"))  # the survey, its question

    with CaptureQueriesContext(connection) as statements:
        records_import(export_records([_responses(1000, 200)], default_survey_type="nps"))

    # 200 answers with their people, invitations, notes, answers, tallies and buckets: one statement per record
    # would be at least 200; the bulk inserts are split only by SQLite's limit on parameters.
    assert Response.objects.count() == 210
    assert len(statements) < 60


def test_the_import_record_follows_the_progress_and_forgets_the_files_once_read():
    files = [_file("people.json"), _file("survey_responses.json")]
    delighted_import = delighted_import_create(files=files, default_survey_type="nps", started_by="me@acme.test")
    assert (delighted_import.status, delighted_import.total, DelightedImportFile.objects.count()) == ("waiting", 5, 2)
    seen = []

    delighted_import_run(delighted_import=delighted_import, progress=lambda done, total: seen.append((done, total)))

    delighted_import.refresh_from_db()
    assert (delighted_import.status, delighted_import.processed, delighted_import.percent) == ("done", 5, 100)
    assert seen == [(3, 5), (5, 5)]  # after the people, then after the responses
    assert delighted_import.summary["imported"] == {"people": 2, "responses": 2, "comments_past_retention": 1}
    assert DelightedImportFile.objects.count() == 0
    assert delighted_import.finished_at is not None


def test_an_import_whose_files_turn_out_unreadable_fails_with_the_reason():
    delighted_import = DelightedImport.objects.create(file_names=["x.json"], total=1)
    DelightedImportFile.objects.create(delighted_import=delighted_import, name="x.json", content='[{"id": ')

    delighted_import_run(delighted_import=delighted_import)

    assert (delighted_import.status, delighted_import.error) == (
        "failed",
        "x.json line 1: not valid JSON (Expecting value).",
    )
    assert Invitation.objects.count() == 0


def _comparable(item: dict) -> dict:
    """What an import must keep of one of Delighted's survey responses, in the `/v1/` shape."""
    person = item["person"]
    return {
        "person": (person["email"], person["name"], person["phone_number"]),
        "survey_type": item["survey_type"],
        "score": item["score"],
        "comment": item["comment"],
        "created_at": item["created_at"],
        "updated_at": item["updated_at"] or item["created_at"],
        "person_properties": item["person_properties"] or {},
        "notes": [(n["text"], n["user_email"], n["created_at"]) for n in item["notes"]],
        "tags": item["tags"],
        "additional_answers": [
            (a["question"]["type"], a["question"]["text"], a["value"][a["question"]["type"]])
            for a in item["additional_answers"]
        ],
    }


def test_a_delighted_export_of_10000_responses_round_trips_through_the_v1_shape(tmp_path):
    """The timed run of the same import is bench/import.py; this test is about what comes back."""
    exported = delighted_responses(10_000)
    path = tmp_path / "survey_responses.json"
    path.write_text(pages(exported))

    summary = records_import(export_records([ExportFile(path.name, path.read_text())], default_survey_type="nps"))

    assert summary.as_json()["imported"]["responses"] == 10_000
    assert summary.as_json()["skipped"] == {}
    ours = dict(DelightedRecord.objects.filter(kind="response").values_list("delighted_id", "object_id"))
    responses = Response.objects.select_related("contact", "survey", "invitation").prefetch_related(
        "notes", "answers__question"
    )
    read_back = {r.pk: response_json(r, expand=["person"]) for r in responses}
    for item in exported:
        assert _comparable(read_back[ours[item["id"]]]) == _comparable(item), item["id"]
    assert stored_score_rollup_rows() == full_score_rollup_rows()
    # The /v1/ API serves the imported answers as the builder does.
    raw = api_key_create(name="reader", survey=Response.objects.first().survey)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{raw}:".encode()).decode())
    page = client.get("/v1/survey_responses.json", {"per_page": 5, "expand[]": "person"}).json()
    assert [_comparable(item) for item in page] == [
        _comparable(read_back[pk]) for pk in sorted(read_back, key=lambda pk: (read_back[pk]["created_at"], pk))[:5]
    ]


def test_responses_written_without_their_id_are_imported_once():
    # The official Python client keeps `id` beside the dictionary: a plain dump of its items has none.
    items = '[{"person": "90", "survey_type": "nps", "score": 7, "comment": "ok", "created_at": 1714000000}]'
    export = ExportFile("client-dump.json", items)

    first = records_import(export_records([export], default_survey_type="nps"))
    again = records_import(export_records([export], default_survey_type="nps"))

    assert (first.imported["responses"], again.skipped["already_imported"], Response.objects.count()) == (1, 1, 1)


_texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["\x00", "a\x00b", "x" * 400, "nps", "csat", "pmf", "1713418460", "a@b.co", "+16175551212"]),
)
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**25), max_value=10**25), st.floats(allow_nan=False), _texts
)
_values = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3), max_leaves=10
)
_keys = st.sampled_from(
    ["id", "person", "survey_type", "score", "comment", "created_at", "updated_at", "person_properties", "notes"]
    + ["tags", "additional_answers", "email", "phone_number", "name", "unsubscribed_at", "bounced_at", "question"]
)
_VALID = {
    "id": "1",
    "person": {"id": "2", "email": "a@b.co", "name": "A", "phone_number": None},
    "survey_type": "nps",
    "score": 9,
    "comment": "ok",
    "created_at": 1713418460,
    "person_properties": {"plan": "pro"},
    "notes": [{"text": "n", "user_email": "cs@b.co", "created_at": 1713418460}],
    "tags": ["t"],
    "additional_answers": [{"value": {"scale": 3}, "question": {"id": "q", "type": "scale", "text": "Q?"}}],
}
# Random objects, and valid responses with some fields replaced by anything.
_records = st.lists(
    st.one_of(
        st.dictionaries(_keys, _values, max_size=8),
        st.dictionaries(_keys, _values, max_size=3).map(lambda changes: {**_VALID, **changes}),
    ),
    max_size=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(items=_records)
def test_hostile_records_are_imported_or_skipped_never_an_error(items):
    """Any JSON a file may hold under Delighted's keys: each record is imported whole or skipped with a reason."""
    try:
        records = export_records([ExportFile("hostile.json", json.dumps(items))], default_survey_type="nps")
    except ExportFileError:
        return  # refused as a whole, naming the file and line, before anything is written
    with transaction.atomic():
        summary = records_import(records)
        counted = sum(summary.imported[k] for k in ("responses", "people", "unsubscribes", "bounces"))
        assert counted + sum(summary.skipped.values()) == len(records)
        assert Response.objects.count() == summary.imported["responses"]
        transaction.set_rollback(True)


@pytest.mark.parametrize("additional_answers", [True, 3, "Q?", {"question": {"id": "q"}}])
def test_additional_answers_that_are_not_a_list_import_the_response_without_them(additional_answers):
    records = export_records(
        [ExportFile("odd.json", json.dumps([{**_VALID, "additional_answers": additional_answers}]))],
        default_survey_type="nps",
    )

    summary = records_import(records)

    assert (summary.imported["responses"], dict(summary.skipped)) == (1, {})
    assert list(Response.objects.values_list("score", "comment")) == [(9, "ok")]
    assert Answer.objects.count() == 0


def test_an_imported_answer_takes_new_tags_and_notes_through_v1_but_keeps_its_score():
    _import("survey_responses_expanded.json")
    response = Response.objects.get(pk=DelightedRecord.objects.get(kind="response", delighted_id="501").object_id)
    raw = api_key_create(name="crm", survey=response.survey)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{raw}:".encode()).decode())

    tagged = client.put(
        f"/v1/survey_responses/{response.pk}", {"tags": ["refund"], "notes": ["Followed up"]}, format="json"
    )
    rescored = client.put(f"/v1/survey_responses/{response.pk}", {"score": 9}, format="json")

    assert (tagged.status_code, tagged.json()["tags"], [n["text"] for n in tagged.json()["notes"]]) == (
        200,
        ["refund"],
        ["Called him back, refund sent.", "Followed up"],
    )
    assert (rescored.status_code, rescored.json()["errors"]) == (422, {"invitation": ["This survey is closed."]})
    response.refresh_from_db()
    assert response.score == 3


def test_the_dashboard_counts_the_imported_history(client, manager):
    _import(*ALL_FILES)
    client.force_login(manager)

    html = client.get("/dashboard/", {"period": "custom", "start": "2024-03-01", "end": "2024-04-30"}).content.decode()

    # 7 answers: 5 NPS (3, 10, 8 from JSON; 9, 4 from the CSV) and 2 CSAT.
    assert "Responses<strong>7</strong>" in html
    assert "2 promoters · 1 passives · 2 detractors (n=5, 95% margin)" in html


def test_a_batch_another_import_wrote_meanwhile_is_rolled_back_and_found_already_imported(monkeypatch):
    _import("people.json", "survey_responses.json")
    seen = imports._records_map
    blind = []

    def blind_to_responses_once(kind, ids):
        # As a concurrent import: the ids were not there when read, and are there when written.
        if kind == "response" and not blind:
            blind.append(kind)
            return {}
        return seen(kind, ids)

    monkeypatch.setattr(imports, "_records_map", blind_to_responses_once)

    again = _import("people.json", "survey_responses.json")

    assert blind == ["response"]
    assert (again.as_json()["imported"], again.skipped["already_imported"]) == ({}, 4)
    assert (Response.objects.count(), Invitation.objects.count()) == (2, 2)  # the failed batch left nothing
