"""Importing a team's Delighted history: survey responses, people, unsubscribes and bounces.

What it decides, and why:

- An imported answer keeps its score, comment, time, person properties, notes, tags and additional answers, and
  is counted in the dashboard's rollups at once (`insights.rollups.rollup_count_new_responses`), so the
  dashboard and `/v1/metrics` include the history.
- It opens no case and sends no webhook: it is history, long answered or not, in another system. No outbox row
  (`ResponseAnnouncement`) is written for it, so `response_submitted` never fires.
- Each answer hangs on an invitation that was never sent (`Invitation.IMPORTED`), expired at once, so no link
  reaches it and the delivery funnel leaves it out.
- Answers go to one survey per Delighted survey type ("NPS history from Delighted"), created paused: its
  additional questions are created there, never added to a survey that is asking people now.
- Unsubscribes and bounces become suppressions at once; intake and every send read them.
- Importing the same export again imports nothing twice: what each Delighted id became is kept
  (`DelightedRecord`), for responses and people alike.
- Records are written in batches, each in its own transaction: a record is written whole or not at all, and an
  import cut short is finished by running it again.
"""

import hashlib
import json
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.retention import retention_days
from delighted.export_files import (
    BOUNCE,
    KIND_ORDER,
    PERSON,
    RESPONSE,
    UNSUBSCRIBE,
    ExportFileError,
    ExportRecord,
    csv_headers,
    csv_mapping_guess,
    csv_records,
    json_records,
    parse_score,
    parse_time,
)
from delighted.models import DelightedImport, DelightedImportFile, DelightedRecord
from insights.rollups import rollup_count_new_responses
from notifications.models import Channel, Suppression
from notifications.services.suppressions import suppressions_add_many
from surveys.models import Answer, Contact, Invitation, Question, Response, ResponseNote, Survey
from surveys.scales import SCALES
from surveys.services.responses import COMMENT_MAX

BATCH_SIZE = 1000
SOURCE = "delighted_import"

# Delighted's survey types and the kind of survey their answers go to; others (pmf) have no equivalent here.
SURVEY_KINDS = {
    "nps": "nps",
    "enps": "nps",
    "csat": "csat",
    "smileys": "csat",
    "ces": "ces",
    "star": "five_star",
    "stars": "five_star",
    "five_star": "five_star",
    "thumbs": "thumbs",
}
SURVEY_NAMES = {
    "nps": "NPS history from Delighted",
    "csat": "CSAT history from Delighted",
    "ces": "CES history from Delighted",
    "five_star": "Five-star history from Delighted",
    "thumbs": "Thumbs history from Delighted",
}
QUESTION_KINDS = {
    "free_response": Question.Kind.FREE_TEXT,
    "scale": Question.Kind.SCALE,
    "select_one": Question.Kind.SELECT_ONE,
    "select_many": Question.Kind.SELECT_MANY,
}

# Why a record was not imported, as the summary says it.
SKIP_REASONS = {
    "already_imported": gettext_lazy("already imported (the same Delighted id)"),
    "not_a_record": gettext_lazy("not a Delighted survey response, person, unsubscribe or bounce"),
    "unknown_survey_type": gettext_lazy("a survey type Closeloop does not ask (such as pmf)"),
    "bad_score": gettext_lazy("no score, or a score outside the survey type's scale"),
    "bad_time": gettext_lazy("no time of the answer, or one that is not a date"),
    "no_person": gettext_lazy("no person: neither a person id, an email nor a phone number"),
    "person_erased": gettext_lazy("its person was erased here"),
    "no_address": gettext_lazy("no valid email address nor phone number"),
    "no_email": gettext_lazy("no valid email address"),
    "already_suppressed": gettext_lazy("already unsubscribed or bounced here"),
}
EXAMPLES_KEPT = 5
# What the summary's first line counts.
IMPORTED_COUNTS = ("responses", "notes", "additional_answers", "people", "unsubscribes", "bounces")


@dataclass(frozen=True)
class ExportFile:
    """A file as given: its name, its text and, for a CSV, what each column holds (None: recognised by header)."""

    name: str
    text: str
    mapping: dict | None = None

    @property
    def is_csv(self) -> bool:
        return self.name.lower().endswith(".csv") or self.text.lstrip()[:1] not in ("[", "{", "")


def export_file_decode(name: str, content: bytes) -> str:
    """The text of an uploaded or read file (UTF-8, with or without a byte-order mark)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise ExportFileError(
            _("%(file)s line %(line)s: not UTF-8 text; export it again as UTF-8.") % {"file": name, "line": line}
        ) from exc


def export_file_mapping(file: ExportFile) -> dict[str, str]:
    """A CSV's columns and what each holds: the given mapping over the one its headers suggest."""
    headers = csv_headers(file.name, file.text)
    return {**csv_mapping_guess(headers), **{k: v for k, v in (file.mapping or {}).items() if k in headers}}


def export_records(files: list[ExportFile], *, default_survey_type: str) -> list[ExportRecord]:
    """Every record of the files, people first; raises ExportFileError, naming the file and line, for a file
    that cannot be read, before anything is written."""
    records: list[ExportRecord] = []
    for file in files:
        if file.is_csv:
            records += csv_records(
                file.name, file.text, export_file_mapping(file), default_survey_type=default_survey_type
            )
        else:
            records += json_records(file.name, file.text)
    order = {kind: position for position, kind in enumerate(KIND_ORDER)}
    return sorted(records, key=lambda record: order.get(record.kind, len(order)))


@dataclass
class ImportSummary:
    imported: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    surveys: list[str] = field(default_factory=list)

    def skip(self, reason: str, record: ExportRecord) -> None:
        self.skipped[reason] += 1
        where = self.examples.setdefault(reason, [])
        if len(where) < EXAMPLES_KEPT:
            where.append(record.where)

    def add(self, other: "ImportSummary") -> None:
        self.imported.update(other.imported)
        self.skipped.update(other.skipped)
        for reason, where in other.examples.items():
            mine = self.examples.setdefault(reason, [])
            mine.extend(where[: EXAMPLES_KEPT - len(mine)])
        self.surveys += [name for name in other.surveys if name not in self.surveys]

    def as_json(self) -> dict:
        return {
            "imported": {what: n for what, n in self.imported.items() if n},
            "skipped": {reason: n for reason, n in self.skipped.items() if n},
            "examples": self.examples,
            "surveys": self.surveys,
        }

    @classmethod
    def from_json(cls, data: dict) -> "ImportSummary":
        return cls(
            Counter(data.get("imported", {})),
            Counter(data.get("skipped", {})),
            dict(data.get("examples", {})),
            list(data.get("surveys", [])),
        )

    def lines(self) -> list[str]:
        """The summary in sentences, as the command prints it (in English) and the console shows it (in the
        reader's language); the examples say where in the files, as they were recorded."""
        imported = self.imported
        lines = [
            _(
                "Imported: %(responses)s responses (%(notes)s notes, %(additional_answers)s additional answers), "
                "%(people)s people, %(unsubscribes)s unsubscribes, %(bounces)s bounces."
            )
            % {name: imported[name] for name in IMPORTED_COUNTS}
        ]
        if self.surveys:
            lines.append(_("Answers are in: %(surveys)s.") % {"surveys": ", ".join(self.surveys)})
        if imported["comments_past_retention"]:
            lines.append(
                _(
                    "%(count)s imported comments are older than RETENTION_COMMENTS_DAYS (%(days)s days): the retention "
                    "purge will blank them. To keep them, set RETENTION_COMMENTS_DAYS=forever (or more days) before "
                    "the next purge."
                )
                % {"count": imported["comments_past_retention"], "days": settings.RETENTION_COMMENTS_DAYS}
            )
        total = sum(self.skipped.values())
        lines.append(_("Skipped: %(count)s.") % {"count": total} if total else _("Skipped: none."))
        for reason, n in sorted(self.skipped.items(), key=lambda item: -item[1]):
            values = {
                "count": n,
                "reason": SKIP_REASONS.get(reason, reason),
                "where": ", ".join(self.examples.get(reason, [])),
            }
            line = _("%(count)s %(reason)s (e.g. %(where)s)") if values["where"] else _("%(count)s %(reason)s")
            lines.append("  " + line % values)
        return lines


# --- values ------------------------------------------------------------------------------------------------------


def _text(value, limit: int) -> str:
    """A string as stored: PostgreSQL refuses NUL in text, and fields have their lengths."""
    return str(value).replace("\x00", "").strip()[:limit] if value not in (None, "") else ""


def _email(value) -> str:
    email = _text(value, 254).lower()
    try:
        validate_email(email)
    except ValidationError:
        return ""
    return email


def _phone(value) -> str:
    phone = "".join(_text(value, 32).split()).replace("-", "")
    return phone if phone.startswith("+") and phone[1:].isdigit() and 8 <= len(phone) <= 16 else ""


def _json_value(value, depth: int = 0):
    """A property as JSON the database takes: no NUL anywhere, no endless nesting."""
    if isinstance(value, str):
        return value.replace("\x00", "")[:1000]
    if isinstance(value, bool | int | float) or value is None:
        return value if not isinstance(value, float) or value == value and abs(value) != float("inf") else None
    if depth >= 3:
        return _text(json.dumps(value, default=str), 1000)
    if isinstance(value, dict):
        return {_text(k, 100): _json_value(v, depth + 1) for k, v in list(value.items())[:100]}
    if isinstance(value, list):
        return [_json_value(v, depth + 1) for v in value[:100]]
    return _text(value, 1000)


@dataclass(frozen=True)
class PersonData:
    delighted_id: str = ""
    email: str = ""
    phone: str = ""
    name: str = ""

    @classmethod
    def of(cls, person) -> "PersonData":
        if isinstance(person, dict):
            return cls(
                delighted_id=_text(person.get("id"), 200),
                email=_email(person.get("email")),
                phone=_phone(person.get("phone_number")),
                name=_text(person.get("name"), 200),
            )
        if isinstance(person, str | int) and not isinstance(person, bool):
            return cls(delighted_id=_text(person, 200))
        return cls()


def _times_restore(model: type[models.Model], field_name: str, times: dict[int, datetime]) -> None:
    """Put Delighted's times back on rows whose `auto_now` field the insert set to now: one statement run for
    every row (executemany), as building a CASE of 500 branches cost more than running it."""
    if not times:
        return
    field = model._meta.get_field(field_name)
    sql = "UPDATE {} SET {} = %s WHERE {} = %s".format(
        *(connection.ops.quote_name(name) for name in (model._meta.db_table, field.column, model._meta.pk.column))
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(field.get_db_prep_value(at, connection), pk) for pk, at in times.items()])


# --- people ------------------------------------------------------------------------------------------------------


def _records_map(kind: str, ids) -> dict[str, int]:
    ids = [i for i in set(ids) if i]
    return dict(
        DelightedRecord.objects.filter(kind=kind, delighted_id__in=ids).values_list("delighted_id", "object_id")
    )


def _contacts_for(people: list[PersonData]) -> list[Contact | str]:
    """The contact of each person (found by Delighted id, then email, then phone; else created), or the reason
    there is none. New Delighted ids are remembered; a contact known only by id gets the email it now has."""
    mapped = _records_map(DelightedRecord.Kind.PERSON, [p.delighted_id for p in people])
    by_pk = Contact.objects.in_bulk(list(mapped.values()))
    emails = {p.email for p in people if p.email}
    by_email = {}
    if emails:
        for contact in Contact.objects.annotate(lowered=Lower("email")).filter(lowered__in=emails).order_by("-pk"):
            by_email[contact.lowered] = contact
    phones = {p.phone for p in people if p.phone}
    by_phone = {c.phone: c for c in Contact.objects.filter(phone__in=phones).order_by("-pk")} if phones else {}
    created: dict[str, Contact] = {}
    found: list[Contact | str | None] = []
    for person in people:
        if person.delighted_id in mapped:
            contact = by_pk.get(mapped[person.delighted_id])
            # Erased here (deleted, or kept as a contact of anonymous scores): never filled in again.
            found.append(contact if contact is not None and contact.erased_at is None else "person_erased")
            continue
        contact = by_email.get(person.email) or by_phone.get(person.phone)
        key = person.email or person.phone or f"id:{person.delighted_id}"
        if contact is None and key in created:
            contact = created[key]
        if contact is None:
            if not (person.email or person.phone or person.delighted_id):
                found.append("no_person")
                continue
            contact = Contact(email=person.email, phone=person.phone, name=person.name)
            created[key] = contact
            for address in (person.email, person.phone):
                if address:
                    (by_email if address == person.email else by_phone)[address] = contact
        found.append(contact)
    Contact.objects.bulk_create(list({id(c): c for c in created.values()}.values()))
    new_records = {
        person.delighted_id: contact.pk
        for person, contact in zip(people, found, strict=True)
        if isinstance(contact, Contact) and person.delighted_id and person.delighted_id not in mapped
    }
    DelightedRecord.objects.bulk_create(
        [
            DelightedRecord(kind=DelightedRecord.Kind.PERSON, delighted_id=i, object_id=pk)
            for i, pk in new_records.items()
        ]
    )
    _contacts_complete(people, found)
    return found


def _contacts_complete(people: list[PersonData], contacts: list) -> None:
    """Give a contact the name, email or phone number it lacks and the export has (a person first met by id)."""
    changed = {}
    taken = set(
        Contact.objects.annotate(lowered=Lower("email"))
        .filter(lowered__in=[p.email for p in people if p.email])
        .values_list("lowered", flat=True)
    )
    for person, contact in zip(people, contacts, strict=True):
        if not isinstance(contact, Contact):
            continue
        if person.email and not contact.email and person.email not in taken:
            contact.email = person.email
            taken.add(person.email)
            changed[contact.pk] = contact
        if person.phone and not contact.phone:
            contact.phone = person.phone
            changed[contact.pk] = contact
        if person.name and not contact.name:
            contact.name = person.name
            changed[contact.pk] = contact
    Contact.objects.bulk_update(list(changed.values()), ["email", "phone", "name"])


def _people(records: list[ExportRecord], summary: ImportSummary, state: "ImportState") -> None:
    people, kept = [], []
    for record in records:
        person = PersonData.of(record.data)
        if not (person.email or person.phone):
            summary.skip("no_address", record)
            continue
        people.append(person)
        kept.append(record)
    known = _records_map(DelightedRecord.Kind.PERSON, [p.delighted_id for p in people])
    for person, record, contact in zip(people, kept, _contacts_for(people), strict=True):
        if isinstance(contact, str):
            summary.skip(contact, record)
        elif person.delighted_id in known:
            summary.skip("already_imported", record)
        else:
            summary.imported["people"] += 1


# --- survey responses --------------------------------------------------------------------------------------------


@dataclass
class ImportState:
    """What stays the same for a whole import: the survey of each kind and the questions of each survey."""

    default_survey_type: str = "nps"
    surveys: dict[str, Survey] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)

    def survey(self, kind: str, summary: ImportSummary) -> Survey:
        if kind not in self.surveys:
            pk = _records_map(DelightedRecord.Kind.SURVEY, [kind]).get(kind)
            survey = Survey.objects.filter(pk=pk).first() if pk else None
            if survey is None:
                survey = Survey.objects.create(name=SURVEY_NAMES[kind], kind=kind, is_active=False)
                DelightedRecord.objects.update_or_create(
                    kind=DelightedRecord.Kind.SURVEY, delighted_id=kind, defaults={"object_id": survey.pk}
                )
            self.surveys[kind] = survey
        if self.surveys[kind].name not in summary.surveys:
            summary.surveys.append(self.surveys[kind].name)
        return self.surveys[kind]

    def question(self, survey: Survey, question: dict) -> Question | None:
        kind = QUESTION_KINDS.get(str(question.get("type") or ""))
        if kind is None:
            return None
        key = f"{survey.pk}:{_text(question.get('id'), 150) or _text(question.get('text'), 150)}"
        if key not in self.questions:
            pk = _records_map(DelightedRecord.Kind.QUESTION, [key]).get(key)
            found = Question.objects.filter(pk=pk, survey=survey).first() if pk else None
            if found is None:
                found = Question.objects.create(
                    survey=survey,
                    position=survey.questions.count(),
                    kind=kind,
                    text={"en": _text(question.get("text"), 1000) or "Additional question"},
                    choices=[],
                    scale_max=5,
                )
                DelightedRecord.objects.update_or_create(
                    kind=DelightedRecord.Kind.QUESTION, delighted_id=key, defaults={"object_id": found.pk}
                )
            self.questions[key] = found
        return self.questions[key]


@dataclass
class _Row:
    record: ExportRecord
    delighted_id: str
    kind: str
    score: int
    created_at: datetime
    updated_at: datetime | None
    person: PersonData
    data: dict


def _response_key(data: dict, person: PersonData, created_at: datetime, score: int) -> str:
    """Delighted's response id; a CSV without that column is keyed on who answered what, when."""
    if data.get("id") not in (None, ""):
        return _text(data["id"], 200)
    who = person.delighted_id or person.email or person.phone
    return "row:" + hashlib.sha256(f"{who}|{created_at.isoformat()}|{score}".encode()).hexdigest()[:40]


def _response_rows(records: list[ExportRecord], summary: ImportSummary, state: ImportState) -> list[_Row]:
    rows, seen = [], set()
    for record in records:
        data = record.data
        kind = SURVEY_KINDS.get(str(data.get("survey_type") or state.default_survey_type).strip().lower())
        if kind is None:
            summary.skip("unknown_survey_type", record)
            continue
        score = parse_score(data.get("score"))
        if score is None or score not in SCALES[kind].scores:
            summary.skip("bad_score", record)
            continue
        created_at = parse_time(data.get("created_at"))
        if created_at is None:
            summary.skip("bad_time", record)
            continue
        person = PersonData.of(data.get("person"))
        if not (person.delighted_id or person.email or person.phone):
            summary.skip("no_person", record)
            continue
        key = _response_key(data, person, created_at, score)
        if key in seen:
            summary.skip("already_imported", record)
            continue
        seen.add(key)
        rows.append(_Row(record, key, kind, score, created_at, parse_time(data.get("updated_at")), person, data))
    known = set(_records_map(DelightedRecord.Kind.RESPONSE, [row.delighted_id for row in rows]))
    for row in rows:
        if row.delighted_id in known:
            summary.skip("already_imported", row.record)
    return [row for row in rows if row.delighted_id not in known]


def _tags(value) -> list[str]:
    tags = []
    for tag in value if isinstance(value, list) else []:
        name = tag.get("name") if isinstance(tag, dict) else tag
        if _text(name, 100):
            tags.append(_text(name, 100))
    return list(dict.fromkeys(tags))[:100]


def _notes(value) -> list[tuple[str, str, datetime | None]]:
    notes = []
    for note in value if isinstance(value, list) else []:
        note = note if isinstance(note, dict) else {"text": note}
        text = _text(note.get("text"), 5000)
        if text:
            notes.append((text, _email(note.get("user_email")), parse_time(note.get("created_at"))))
    return notes


def _answer_value(question: Question, value) -> str | list[str] | None:
    """The stored value of one of Delighted's additional answers (`{"<type>": ...}`); None when empty."""
    if isinstance(value, dict) and any(key in value for key in QUESTION_KINDS):
        value = next((value.get(t) for t, k in QUESTION_KINDS.items() if k == question.kind), None)
    if question.kind == Question.Kind.FREE_TEXT:
        return _text(value, 5000) or None
    if question.kind == Question.Kind.SCALE:
        number = parse_score(value)
        if number is None or number < 0:
            return None
        if number > question.scale_max:
            question.scale_max = min(number, 100)
        return str(number)
    items = value if isinstance(value, list) else [value]
    ids = []
    for item in items:
        if not isinstance(item, dict) or not _text(item.get("id"), 100):
            continue
        choice_id = _text(item["id"], 100)
        if choice_id not in [str(choice["value"]) for choice in question.choices]:
            question.choices = [
                *question.choices,
                {"value": choice_id, "en": _text(item.get("text"), 500) or choice_id},
            ]
        ids.append(choice_id)
    if question.kind == Question.Kind.SELECT_ONE:
        return ids[0] if ids else None
    return ids or None


def _responses(records: list[ExportRecord], summary: ImportSummary, state: ImportState) -> None:
    rows = _response_rows(records, summary, state)
    contacts = _contacts_for([row.person for row in rows])
    kept = []
    for row, contact in zip(rows, contacts, strict=True):
        if isinstance(contact, str):
            summary.skip(contact, row.record)
        else:
            kept.append((row, contact))
    invitations = [
        Invitation(
            token_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),  # no link to it exists anywhere
            contact=contact,
            survey=state.survey(row.kind, summary),
            channel=Channel.SMS if contact.phone and not contact.email else Channel.EMAIL,
            properties=_json_value(row.data.get("person_properties"))
            if isinstance(row.data.get("person_properties"), dict)
            else {},
            scheduled_at=row.created_at,
            expires_at=row.created_at,
            status=Invitation.Status.EXPIRED,
            cancel_reason=Invitation.IMPORTED,
        )
        for row, contact in kept
    ]
    Invitation.objects.bulk_create(invitations)
    responses = [
        Response(
            invitation=invitation,
            survey=invitation.survey,
            contact=contact,
            score=row.score,
            comment=_text(row.data.get("comment"), COMMENT_MAX),
            confirmed_at=row.created_at,
            tags=_tags(row.data.get("tags")),
            # Read by the beat job `analyse-pending-comments`, as a new answer's comment is.
            analysis_pending=bool(_text(row.data.get("comment"), COMMENT_MAX)),
        )
        for (row, contact), invitation in zip(kept, invitations, strict=True)
    ]
    Response.objects.bulk_create(responses)
    _times_restore(
        Response,
        "updated_at",
        {r.pk: row.updated_at or row.created_at for (row, _), r in zip(kept, responses, strict=True)},
    )
    notes, note_times = [], []
    answers: dict[tuple[int, int], Answer] = {}
    changed_questions = {}
    for (row, _contact), response in zip(kept, responses, strict=True):
        for text, user_email, at in _notes(row.data.get("notes")):
            notes.append(ResponseNote(response=response, text=text, user_email=user_email))
            note_times.append(at or row.created_at)
        additional = row.data.get("additional_answers")
        for item in additional if isinstance(additional, list) else []:
            if not isinstance(item, dict) or not isinstance(item.get("question"), dict):
                continue
            question = state.question(response.survey, item["question"])
            if question is None:
                continue
            before = (list(question.choices), question.scale_max)
            value = _answer_value(question, item.get("value"))
            if before != (question.choices, question.scale_max):
                changed_questions[question.pk] = question
            if value is not None:
                answers[response.pk, question.pk] = Answer(
                    response=response,
                    question=question,
                    value=value,
                    analysis_pending=question.kind == Question.Kind.FREE_TEXT,
                )
    ResponseNote.objects.bulk_create(notes)
    _times_restore(ResponseNote, "created_at", {note.pk: at for note, at in zip(notes, note_times, strict=True)})
    Answer.objects.bulk_create(list(answers.values()))
    Question.objects.bulk_update(list(changed_questions.values()), ["choices", "scale_max"])
    DelightedRecord.objects.bulk_create(
        [
            DelightedRecord(kind=DelightedRecord.Kind.RESPONSE, delighted_id=row.delighted_id, object_id=response.pk)
            for (row, _), response in zip(kept, responses, strict=True)
        ]
    )
    rollup_count_new_responses(responses=responses)
    summary.imported["responses"] += len(responses)
    days = retention_days(settings.RETENTION_COMMENTS_DAYS)
    if days is not None:
        # The hourly retention purge blanks comments by the time they were given: an old history's go at once.
        horizon = timezone.now() - timedelta(days=days)
        summary.imported["comments_past_retention"] += sum(
            1 for r in responses if r.comment and r.confirmed_at < horizon
        )
    summary.imported["notes"] += len(notes)
    summary.imported["additional_answers"] += len(answers)


# --- unsubscribes and bounces ------------------------------------------------------------------------------------


def _suppressions(records: list[ExportRecord], summary: ImportSummary, state: ImportState) -> None:
    kind = records[0].kind
    time_key, reason = (
        ("unsubscribed_at", Suppression.Reason.UNSUBSCRIBE)
        if kind == UNSUBSCRIBE
        else ("bounced_at", Suppression.Reason.BOUNCE)
    )
    emails, kept = {}, []
    for record in records:
        email = _email(record.data.get("email"))
        if not email:
            summary.skip("no_email", record)
        elif email in emails:
            summary.skip("already_suppressed", record)
        else:
            emails[email] = parse_time(record.data.get(time_key))
            kept.append((record, email))
    new = set(suppressions_add_many(channel=Channel.EMAIL, recipients=list(emails), reason=reason, source=SOURCE))
    times = dict(Suppression.objects.filter(channel=Channel.EMAIL, recipient__in=new).values_list("pk", "recipient"))
    _times_restore(Suppression, "created_at", {pk: emails[email] for pk, email in times.items() if emails[email]})
    for record, email in kept:
        if email in new:
            summary.imported["unsubscribes" if kind == UNSUBSCRIBE else "bounces"] += 1
        else:
            summary.skip("already_suppressed", record)


IMPORTERS: dict[str, Callable] = {
    PERSON: _people,
    RESPONSE: _responses,
    UNSUBSCRIBE: _suppressions,
    BOUNCE: _suppressions,
}


def records_import(
    records: list[ExportRecord],
    *,
    default_survey_type: str = "nps",
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int, ImportSummary], None] | None = None,
) -> ImportSummary:
    """Import the records in batches of one kind, each in its own transaction; `on_batch(done, summary)` is called
    after each commit. Returns what was imported and skipped."""
    summary, state = ImportSummary(), ImportState(default_survey_type=default_survey_type)
    for record in records:
        if not record.kind:
            summary.skip("not_a_record", record)
    records = [record for record in records if record.kind]
    done = summary.skipped["not_a_record"]
    start = 0
    while start < len(records):
        kind = records[start].kind
        end = start + 1
        while end < len(records) and end - start < batch_size and records[end].kind == kind:
            end += 1
        batch = records[start:end]
        for attempt in range(2):
            local = ImportSummary()
            try:
                with transaction.atomic():
                    IMPORTERS[kind](batch, local, state)
                break
            except IntegrityError:
                # Another import wrote some of these ids meanwhile: the retry finds them already imported.
                state.surveys.clear()
                state.questions.clear()
                if attempt:
                    raise
        summary.add(local)
        done += len(batch)
        start = end
        if on_batch is not None:
            on_batch(done, summary)
    return summary


# --- the import's record: the console's progress page and the command ------------------------------------------


def delighted_import_create(
    *, files: list[ExportFile], default_survey_type: str, started_by: str, store: bool = True
) -> DelightedImport:
    """Record an import of these files, checked readable first (ExportFileError names the file and line that is
    not). With `store` (an upload), the files are kept for the worker until it has read them, and an import with
    a CSV waits for its columns' mapping (`delighted_import_map`); without, every file must be ready to import."""
    if default_survey_type not in SURVEY_KINDS:
        raise ValidationError({"default_survey_type": f"Choose one of {', '.join(SURVEY_KINDS)}."})
    needs_mapping = store and any(file.is_csv for file in files)
    if needs_mapping:
        total = sum(len(json_records(file.name, file.text)) for file in files if not file.is_csv)
        for file in files:
            if file.is_csv:
                csv_headers(file.name, file.text)
    else:
        total = len(export_records(files, default_survey_type=default_survey_type))
    with transaction.atomic():
        delighted_import = DelightedImport.objects.create(
            status=DelightedImport.Status.MAPPING if needs_mapping else DelightedImport.Status.WAITING,
            started_by=started_by[:320],
            file_names=[file.name for file in files],
            default_survey_type=default_survey_type,
            total=total,
        )
        if store:
            DelightedImportFile.objects.bulk_create(
                [
                    DelightedImportFile(
                        delighted_import=delighted_import,
                        name=file.name[:255],
                        content=file.text,
                        mapping=export_file_mapping(file) if file.is_csv else {},
                    )
                    for file in files
                ]
            )
    return delighted_import


def delighted_import_map(
    *, delighted_import: DelightedImport, mappings: dict[int, dict[str, str]], default_survey_type: str
) -> DelightedImport:
    """Set what the columns of each stored CSV hold (`{file id: {header: field}}`) and let the import start;
    ExportFileError says what is missing or claimed twice."""
    if delighted_import.status != DelightedImport.Status.MAPPING:
        raise ValidationError({"__all__": "This import has started: its columns can no longer change."})
    if default_survey_type not in SURVEY_KINDS:
        raise ValidationError({"default_survey_type": f"Choose one of {', '.join(SURVEY_KINDS)}."})
    stored = list(delighted_import.files.order_by("pk"))
    files = [
        ExportFile(f.name, f.content, {**f.mapping, **mappings.get(f.pk, {})} if f.mapping else None) for f in stored
    ]
    total = len(export_records(files, default_survey_type=default_survey_type))
    with transaction.atomic():
        for file, export in zip(stored, files, strict=True):
            if export.is_csv:
                file.mapping = export_file_mapping(export)
                file.save(update_fields=["mapping"])
        delighted_import.status = DelightedImport.Status.WAITING
        delighted_import.default_survey_type = default_survey_type
        delighted_import.total = total
        delighted_import.save(update_fields=["status", "default_survey_type", "total", "updated_at"])
    return delighted_import


def delighted_import_run(
    *,
    delighted_import: DelightedImport,
    files: list[ExportFile] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DelightedImport:
    """Run an import: its stored files (the console's) or `files` (the command's). Its progress and summary are
    saved after each batch, for the progress page; the stored files are deleted once read to the end."""
    if files is None:
        files = [ExportFile(f.name, f.content, f.mapping) for f in delighted_import.files.order_by("pk")]
    delighted_import.status = DelightedImport.Status.RUNNING
    delighted_import.processed = 0
    delighted_import.error = ""
    delighted_import.save(update_fields=["status", "processed", "error", "updated_at"])
    try:
        records = export_records(files, default_survey_type=delighted_import.default_survey_type)
    except ExportFileError as exc:
        return _finish(delighted_import, DelightedImport.Status.FAILED, error=str(exc))

    def on_batch(done: int, summary: ImportSummary) -> None:
        delighted_import.processed = done
        delighted_import.summary = summary.as_json()
        delighted_import.save(update_fields=["processed", "summary", "updated_at"])
        if progress is not None:
            progress(done, len(records))

    delighted_import.total = len(records)
    delighted_import.save(update_fields=["total", "updated_at"])
    try:
        summary = records_import(records, default_survey_type=delighted_import.default_survey_type, on_batch=on_batch)
    except Exception:
        _finish(
            delighted_import,
            DelightedImport.Status.FAILED,
            error="An unexpected error stopped the import. What was imported stays; run it again to finish "
            "(nothing is imported twice).",
        )
        raise
    delighted_import.summary = summary.as_json()
    delighted_import.processed = len(records)
    delighted_import.files.all().delete()
    return _finish(delighted_import, DelightedImport.Status.DONE)


def _finish(delighted_import: DelightedImport, status: str, error: str = "") -> DelightedImport:
    delighted_import.status = status
    delighted_import.error = error
    delighted_import.finished_at = timezone.now()
    delighted_import.save()
    return delighted_import


def delighted_uploads_forget(*, emails: tuple[str, ...], phones: tuple[str, ...]) -> int:
    """Delete the waiting uploads that name one of these addresses (a person being erased), and mark their imports
    failed saying why; returns how many files went. A finished import kept no file."""
    needles = Q()
    for needle in [*emails, *phones]:
        if needle:
            needles |= Q(content__icontains=needle)
    if not needles:
        return 0
    files = DelightedImportFile.objects.filter(needles)
    DelightedImport.objects.filter(pk__in=files.values("delighted_import_id")).update(
        status=DelightedImport.Status.FAILED,
        error="Its uploaded files named a person who was erased, and were deleted: export again from Delighted "
        "without them, and upload again (nothing is imported twice).",
        finished_at=timezone.now(),
    )
    return files.delete()[0]
