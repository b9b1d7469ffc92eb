"""Reading what a team exported from Delighted into records of Delighted's own JSON shapes. Pure: no database.

- JSON as the official clients and the `/v1/` API return it: survey responses (`person` expanded with
  `expand[]=person`, or its id), people, unsubscribes, bounces. A file may hold one page (an array), several
  pages one after the other (`[...][...]`, as a loop appending each page writes them), or one object per line.
- A CSV of responses, whose columns are mapped to what they hold (`csv_mapping_guess` recognises the headers
  of Delighted's own export; any other column is kept as a property).

A file that cannot be read raises `ExportFileError` naming the file and the line, before anything is written.
"""

import csv
import io
import json
import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

RESPONSE, PERSON, UNSUBSCRIBE, BOUNCE = "response", "person", "unsubscribe", "bounce"
# People come first so that the responses of a later file find them by id; the order of the files does not matter.
KIND_ORDER = (PERSON, RESPONSE, UNSUBSCRIBE, BOUNCE)


class ExportFileError(ValueError):
    """A file that is not a Delighted export; the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class ExportRecord:
    kind: str
    data: dict
    where: str  # "responses.json line 12": where a skipped record is found again


def record_kind(item) -> str | None:
    """Which of Delighted's objects `item` is, by the keys only that object has; None for anything else."""
    if not isinstance(item, dict):
        return None
    if "score" in item and ("survey_type" in item or "person" in item):
        return RESPONSE
    if "unsubscribed_at" in item:
        return UNSUBSCRIBE
    if "bounced_at" in item:
        return BOUNCE
    if "id" in item and ("email" in item or "phone_number" in item):
        return PERSON
    return None


def _line_finder(text: str):
    starts = [0] + [match.end() for match in re.finditer("\n", text)]
    return lambda position: bisect_right(starts, position)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n,":
        position += 1
    return position


def json_records(name: str, text: str) -> list[ExportRecord]:
    """Every object of a JSON export, in order, each with its line; arrays may follow one another."""
    decoder = json.JSONDecoder()
    line_of = _line_finder(text)
    records: list[ExportRecord] = []

    def add(item, position: int) -> None:
        records.append(ExportRecord(record_kind(item) or "", item, f"{name} line {line_of(position)}"))

    position = _skip_space(text, 0)
    try:
        while position < len(text):
            if text[position] == "[":
                # Item by item, so each record knows its own line.
                position = _skip_space(text, position + 1)
                while position < len(text) and text[position] != "]":
                    item, end = decoder.raw_decode(text, position)
                    add(item, position)
                    position = end
                    while position < len(text) and text[position] in " \t\r\n":
                        position += 1
                    if position < len(text) and text[position] == ",":
                        position = _skip_space(text, position + 1)
                    elif position < len(text) and text[position] != "]":
                        raise ExportFileError(
                            _("%(file)s line %(line)s: expected , or ] after an item.")
                            % {"file": name, "line": line_of(position)}
                        )
                if position >= len(text):
                    raise ExportFileError(
                        _("%(file)s line %(line)s: the array is not closed (missing ]).")
                        % {"file": name, "line": line_of(position)}
                    )
                position = _skip_space(text, position + 1)
            elif text[position] == "{":
                item, end = decoder.raw_decode(text, position)
                add(item, position)
                position = _skip_space(text, end)
            else:
                raise ExportFileError(
                    _("%(file)s line %(line)s: expected a JSON array or object, found %(found)s.")
                    % {"file": name, "line": line_of(position), "found": repr(text[position])}
                )
    except json.JSONDecodeError as exc:
        raise ExportFileError(
            _("%(file)s line %(line)s: not valid JSON (%(error)s).")
            % {"file": name, "line": exc.lineno, "error": exc.msg}
        ) from exc
    except RecursionError as exc:
        raise ExportFileError(_("%(file)s: nested too deeply to be a Delighted export.") % {"file": name}) from exc
    if records and not any(record.kind for record in records):
        keys = ", ".join(sorted(map(str, records[0].data))[:8]) if isinstance(records[0].data, dict) else "-"
        raise ExportFileError(
            _("%(where)s: not a Delighted survey response, person, unsubscribe or bounce (keys: %(keys)s).")
            % {"where": records[0].where, "keys": keys}
        )
    return records


# --- CSV ---------------------------------------------------------------------------------------------------

# What a CSV column may hold, as the mapping step offers it.
CSV_FIELDS = {
    "response_id": gettext_lazy("Response ID"),
    "score": gettext_lazy("Score"),
    "comment": gettext_lazy("Comment"),
    "created_at": gettext_lazy("Time of the answer"),
    "updated_at": gettext_lazy("Time of the last change"),
    "email": gettext_lazy("Email"),
    "name": gettext_lazy("Name"),
    "phone": gettext_lazy("Phone number"),
    "person_id": gettext_lazy("Person ID"),
    "survey_type": gettext_lazy("Survey type"),
    "tags": gettext_lazy("Tags"),
    "notes": gettext_lazy("Notes"),
    "property": gettext_lazy("A property (kept under its header)"),
    "ignore": gettext_lazy("Ignore"),
}
SINGLE_FIELDS = tuple(field for field in CSV_FIELDS if field not in ("property", "ignore"))

# Headers of Delighted's CSV export and of the API's field names, lower-cased; any other column is a property.
HEADER_ALIASES = {
    "response id": "response_id",
    "response_id": "response_id",
    "id": "response_id",
    "score": "score",
    "rating": "score",
    "comment": "comment",
    "comments": "comment",
    "created at": "created_at",
    "created_at": "created_at",
    "date": "created_at",
    "response date": "created_at",
    "response timestamp": "created_at",
    "responded at": "created_at",
    "timestamp": "created_at",
    "updated at": "updated_at",
    "updated_at": "updated_at",
    "email": "email",
    "email address": "email",
    "person email": "email",
    "person_email": "email",
    "name": "name",
    "person name": "name",
    "person_name": "name",
    "phone": "phone",
    "phone number": "phone",
    "phone_number": "phone",
    "person id": "person_id",
    "person_id": "person_id",
    "person": "person_id",
    "survey type": "survey_type",
    "survey_type": "survey_type",
    "tags": "tags",
    "tag": "tags",
    "notes": "notes",
    "note": "notes",
    # The link to the answer on Delighted, which is gone with it.
    "permalink": "ignore",
}


def csv_text_check(name: str, text: str) -> None:
    if "\x00" in text:
        raise ExportFileError(_("%(file)s: holds NUL characters; export it again as CSV (UTF-8).") % {"file": name})


def csv_delimiter(text: str) -> str:
    """A comma, as Delighted writes; a semicolon or a tab when the header row holds more of those (a file saved
    again by a spreadsheet set to a language whose decimal mark is the comma)."""
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=lambda delimiter: (header.count(delimiter), delimiter == ","))


def csv_headers(name: str, text: str) -> list[str]:
    csv_text_check(name, text)
    try:
        headers = next(csv.reader(io.StringIO(text), delimiter=csv_delimiter(text)), [])
    except csv.Error as exc:
        raise ExportFileError(
            _("%(file)s line %(line)s: not CSV (%(error)s).") % {"file": name, "line": 1, "error": exc}
        ) from exc
    headers = [header.strip() for header in headers]
    if not any(headers):
        raise ExportFileError(
            _("%(file)s line 1: no header row; the first line must name the columns.") % {"file": name}
        )
    if len(set(headers)) != len(headers):
        twice = next(header for header in headers if headers.count(header) > 1)
        raise ExportFileError(
            _("%(file)s line 1: the column %(column)s appears twice.") % {"file": name, "column": repr(twice)}
        )
    return headers


def csv_mapping_guess(headers: list[str]) -> dict[str, str]:
    """What each column holds by its header; the first column claiming a field gets it, the others are kept."""
    mapping, taken = {}, set()
    for header in headers:
        field = HEADER_ALIASES.get(header.strip().lower(), "property")
        if field in SINGLE_FIELDS and field in taken:
            field = "property"
        taken.add(field)
        mapping[header] = field
    return mapping


def csv_mapping_check(name: str, headers: list[str], mapping: dict[str, str]) -> None:
    unknown = [field for field in mapping.values() if field not in CSV_FIELDS]
    if unknown:
        raise ExportFileError(
            _("%(file)s: %(field)s is not something a column can hold.") % {"file": name, "field": repr(unknown[0])}
        )
    for field in SINGLE_FIELDS:
        columns = [header for header in headers if mapping.get(header) == field]
        if len(columns) > 1:
            raise ExportFileError(
                _("%(file)s: the columns %(first)s and %(second)s both hold the %(field)s; choose one.")
                % {
                    "file": name,
                    "first": repr(columns[0]),
                    "second": repr(columns[1]),
                    "field": CSV_FIELDS[field].lower(),
                }
            )
    for field in ("score", "created_at"):
        if field not in mapping.values():
            raise ExportFileError(
                _("%(file)s: no column holds the %(field)s; choose one.")
                % {"file": name, "field": CSV_FIELDS[field].lower()}
            )


def csv_records(name: str, text: str, mapping: dict[str, str], *, default_survey_type: str) -> list[ExportRecord]:
    """One response record per row, in Delighted's JSON shape (`person` expanded)."""
    headers = csv_headers(name, text)
    mapping = {header: mapping.get(header, "property") for header in headers}
    csv_mapping_check(name, headers, mapping)
    reader = csv.reader(io.StringIO(text), delimiter=csv_delimiter(text))
    next(reader)
    records = []
    line = reader.line_num + 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                records.append(
                    ExportRecord(RESPONSE, _row_data(headers, row, mapping, default_survey_type), f"{name} line {line}")
                )
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ExportFileError(
            _("%(file)s line %(line)s: not CSV (%(error)s).") % {"file": name, "line": line, "error": exc}
        ) from exc
    return records


def _row_data(headers: list[str], row: list[str], mapping: dict[str, str], default_survey_type: str) -> dict:
    values: dict[str, str] = {}
    properties = {}
    for header, cell in zip(headers, row, strict=False):
        field, cell = mapping[header], cell.strip()
        if field == "property":
            if cell:
                properties[header] = cell
        elif field != "ignore":
            values[field] = cell
    return {
        "id": values.get("response_id") or None,
        "person": {
            "id": values.get("person_id") or None,
            "email": values.get("email") or None,
            "name": values.get("name") or None,
            "phone_number": values.get("phone") or None,
        },
        "survey_type": values.get("survey_type") or default_survey_type,
        "score": values.get("score", ""),
        "comment": values.get("comment") or None,
        "created_at": values.get("created_at") or None,
        "updated_at": values.get("updated_at") or None,
        "person_properties": properties,
        "tags": [tag.strip() for tag in values.get("tags", "").split(",") if tag.strip()],
        "notes": [{"text": note} for note in [values.get("notes", "")] if note],
        "additional_answers": [],
    }


# --- values ------------------------------------------------------------------------------------------------

TIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S %Z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M %Z",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)
# 9999-12-31T23:59:59Z, as surveys.delighted_json.MAX_EPOCH: later instants are not dates the database holds.
MAX_EPOCH = 253402300799


def parse_time(value) -> datetime | None:
    """A time as Delighted writes it (Unix seconds) or as a spreadsheet does; times without a zone are UTC."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and re.fullmatch(r"\d{1,12}(\.\d+)?", value.strip())):
        seconds = float(value)
        return datetime.fromtimestamp(seconds, tz=UTC) if 0 <= seconds <= MAX_EPOCH else None
    if not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+0000") if value.strip().endswith("Z") else value.strip()
    for time_format in TIME_FORMATS:
        try:
            parsed = datetime.strptime(text, time_format)
        except ValueError:
            continue
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return None


def parse_score(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,4}", value.strip()):
        return int(value.strip())
    return None
