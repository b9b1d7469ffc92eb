from datetime import UTC, datetime

import pytest

from delighted.export_files import (
    ExportFileError,
    csv_mapping_guess,
    csv_records,
    json_records,
    parse_score,
    parse_time,
    record_kind,
)


def test_pages_written_one_after_the_other_are_read_as_one_list_each_record_with_its_line():
    text = (
        '[\n  {"id": "1", "person": "7", "survey_type": "nps", "score": 9}\n]\n'
        '[{"person_id": "7", "email": "a@b.co", "unsubscribed_at": 1}]\n'
    )

    records = json_records("pages.json", text)

    assert [(r.kind, r.where) for r in records] == [
        ("response", "pages.json line 2"),
        ("unsubscribe", "pages.json line 4"),
    ]


def test_one_object_per_line_is_read_too():
    text = '{"id": "1", "email": "a@b.co", "name": null}\n{"person_id": null, "email": "c@d.co", "bounced_at": 5}\n'

    assert [(r.kind, r.where) for r in json_records("people.jsonl", text)] == [
        ("person", "people.jsonl line 1"),
        ("bounce", "people.jsonl line 2"),
    ]


def test_an_empty_page_is_no_record():
    assert json_records("empty.json", "[]\n[]") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"id": 1,}]', "x.json line 1: not valid JSON (Expecting property name enclosed in double quotes)."),
        ('[\n{"id": "1", "score": 1, "person": "2"}\n{"id": "2"}]', "x.json line 3: expected , or ] after an item."),
        ('[{"id": "1", "score": 1, "person": "2"}', "x.json line 1: the array is not closed (missing ])."),
        ("Response ID,Score\n1,9", "x.json line 1: expected a JSON array or object, found 'R'."),
        (
            '[{"total": 3}]',
            "x.json line 1: not a Delighted survey response, person, unsubscribe or bounce (keys: total).",
        ),
        ("[" * 100000, "x.json: nested too deeply to be a Delighted export."),
    ],
)
def test_a_file_that_is_not_an_export_names_its_line(text, message):
    with pytest.raises(ExportFileError) as error:
        json_records("x.json", text)
    assert str(error.value) == message


def test_records_are_told_apart_by_the_keys_only_their_object_has():
    assert record_kind({"id": "1", "person": {"id": "2"}, "score": 9, "survey_type": "nps"}) == "response"
    assert record_kind({"id": "2", "email": None, "phone_number": "+15555550100"}) == "person"
    assert record_kind({"person_id": "2", "email": "a@b.co", "unsubscribed_at": 1}) == "unsubscribe"
    assert record_kind({"person_id": "2", "email": "a@b.co", "bounced_at": 1}) == "bounce"
    assert record_kind({"nps": 40}) is None
    assert record_kind(["not", "an", "object"]) is None


def test_delighted_export_headers_are_recognised_and_other_columns_kept_as_properties():
    headers = [
        "Response ID",
        "Date",
        "Name",
        "Email",
        "Score",
        "Comment",
        "Permalink",
        "Tags",
        "Notes",
        "Country",
        "id",
    ]

    assert csv_mapping_guess(headers) == {
        "Response ID": "response_id",
        "Date": "created_at",
        "Name": "name",
        "Email": "email",
        "Score": "score",
        "Comment": "comment",
        "Permalink": "ignore",
        "Tags": "tags",
        "Notes": "notes",
        "Country": "property",
        "id": "property",  # the response id is already the first column's
    }


def test_csv_rows_become_responses_in_delighteds_shape_with_their_lines():
    text = (
        "Score,Created At,Email,Tags,Notes,Plan\n"
        '9,2024-03-01 09:15:00 UTC,A@b.co,"x, y",note,pro\n'
        '\n3,1709300000,,,"two\nlines",\n'
    )
    mapping = csv_mapping_guess(["Score", "Created At", "Email", "Tags", "Notes", "Plan"])

    records = csv_records("r.csv", text, mapping, default_survey_type="csat")

    assert [r.where for r in records] == ["r.csv line 2", "r.csv line 4"]
    assert records[0].data == {
        "id": None,
        "person": {"id": None, "email": "A@b.co", "name": None, "phone_number": None},
        "survey_type": "csat",
        "score": "9",
        "comment": None,
        "created_at": "2024-03-01 09:15:00 UTC",
        "updated_at": None,
        "person_properties": {"Plan": "pro"},
        "tags": ["x", "y"],
        "notes": [{"text": "note"}],
        "additional_answers": [],
    }
    assert records[1].data["notes"] == [{"text": "two\nlines"}]


@pytest.mark.parametrize(
    ("text", "mapping", "message"),
    [
        ("Score,When\n9,x\n", None, "r.csv: no column holds the time of the answer; choose one."),
        (
            "Score,Date,Rating\n9,x,8\n",
            {"Rating": "score"},
            "r.csv: the columns 'Score' and 'Rating' both hold the score; choose one.",
        ),
        ("Score,Date,Score\n9,x,8\n", None, "r.csv line 1: the column 'Score' appears twice."),
        ("\n9,x\n", None, "r.csv line 1: no header row; the first line must name the columns."),
        ("Score,Date\n9,x\x00\n", None, "r.csv: holds NUL characters; export it again as CSV (UTF-8)."),
    ],
)
def test_a_csv_that_cannot_be_read_as_responses_says_why(text, mapping, message):
    headers = text.split("\n")[0].split(",")
    full = {**csv_mapping_guess(headers), **(mapping or {})}
    with pytest.raises(ExportFileError) as error:
        csv_records("r.csv", text, full, default_survey_type="nps")
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1713418460, datetime(2024, 4, 18, 5, 34, 20, tzinfo=UTC)),
        ("1713418460", datetime(2024, 4, 18, 5, 34, 20, tzinfo=UTC)),
        ("2024-04-18T05:34:20Z", datetime(2024, 4, 18, 5, 34, 20, tzinfo=UTC)),
        ("2024-04-18T07:34:20+02:00", datetime(2024, 4, 18, 5, 34, 20, tzinfo=UTC)),
        ("2024-04-18 05:34:20 UTC", datetime(2024, 4, 18, 5, 34, 20, tzinfo=UTC)),
        ("2024-04-18 05:34:20 -0700", datetime(2024, 4, 18, 12, 34, 20, tzinfo=UTC)),
        ("2024-04-18 05:34", datetime(2024, 4, 18, 5, 34, tzinfo=UTC)),
        ("2024-04-18", datetime(2024, 4, 18, tzinfo=UTC)),
        ("04/18/2024 05:34", datetime(2024, 4, 18, 5, 34, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
        (True, None),
        (10**13, None),
        ({"at": 1}, None),
    ],
)
def test_times_are_read_as_delighted_and_spreadsheets_write_them(value, expected):
    assert parse_time(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (9, 9),
        ("10", 10),
        (" 7 ", 7),
        (8.0, 8),
        (8.5, None),
        ("nine", None),
        (None, None),
        (True, None),
        ("99999", None),
    ],
)
def test_scores_are_whole_numbers(value, expected):
    assert parse_score(value) == expected


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_csv_saved_again_by_a_spreadsheet_with_semicolons_or_tabs_is_read_too(delimiter):
    text = (
        delimiter.join(["Score", "Date", "Comment"]) + "\n" + delimiter.join(["9", "2024-03-01", "Bien, merci"]) + "\n"
    )

    [record] = csv_records("r.csv", text, csv_mapping_guess(["Score", "Date", "Comment"]), default_survey_type="nps")

    assert (record.data["score"], record.data["created_at"], record.data["comment"]) == (
        "9",
        "2024-03-01",
        "Bien, merci",
    )
