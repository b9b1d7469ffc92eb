from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from delighted.models import DelightedImport
from surveys.models import Response

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


def _run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_delighted", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_delighted_prints_the_mapping_and_the_summary():
    out, err = _run(
        str(FIXTURES / "responses.csv"), str(FIXTURES / "people.json"), str(FIXTURES / "survey_responses.json")
    )

    assert out.splitlines() == [
        "responses.csv: Response ID → Response ID; Date → Time of the answer; Name → Name; Email → Email; "
        "Score → Score; Comment → Comment; Permalink → Ignore; Tags → Tags; Notes → Notes; "
        "Delighted Source → A property (kept under its header); Plan → A property (kept under its header)",
        f"8 records in 3 file(s); import {DelightedImport.objects.get().pk}.",
        "Imported: 4 responses (1 notes, 0 additional answers), 2 people, 0 unsubscribes, 0 bounces.",
        "Answers are in: NPS history from Delighted, CSAT history from Delighted.",
        "3 imported comments are older than RETENTION_COMMENTS_DAYS (730 days): the retention purge will blank them. "
        "To keep them, set RETENTION_COMMENTS_DAYS=forever (or more days) before the next purge.",
        "Skipped: 2.",
        "  1 no valid email address nor phone number (e.g. people.json line 4)",
        "  1 no time of the answer, or one that is not a date (e.g. responses.csv line 5)",
    ]
    assert err == ""  # no terminal: no progress bar
    assert DelightedImport.objects.get().status == "done"


def test_import_delighted_draws_a_progress_bar():
    _out, err = _run(str(FIXTURES / "people.json"), str(FIXTURES / "survey_responses.json"), "--progress")

    assert err == ("\r[##################------------]  60% 3/5\r[##############################] 100% 5/5\n")


def test_import_delighted_maps_columns_and_reads_rows_without_a_survey_type_as_told():
    out, _err = _run(str(FIXTURES / "responses.csv"), "--map", "Plan=ignore", "--survey-type", "ces")

    assert "Plan → Ignore" in out.splitlines()[0]
    # CES runs from 1 to 7: the 9 is refused, the 4 kept.
    assert "  1 no score, or a score outside the survey type's scale (e.g. responses.csv line 2)" in out.splitlines()
    assert list(Response.objects.values_list("score", "survey__kind", "invitation__properties")) == [
        (4, "ces", {"Delighted Source": "Email"})
    ]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ('[{"id": "1", "score": 9, "person": "2"}', (), "broken.json line 1: the array is not closed (missing ])."),
        ("Note;Date\n9;2024-01-01\n", (), "broken.csv: no column holds the score; choose one."),
        ("Email,Date\nx@example.com,2024-01-01\n", (), "broken.csv: no column holds the score; choose one."),
        ("Score,Date\n9,2024-01-01\n", ("--map", "Date"), "--map 'Date': write COLUMN=FIELD, FIELD one of"),
        ("Score,Date\n9,2024-01-01\n", ("--map", "Date=when"), "--map 'Date=when': write COLUMN=FIELD"),
        ('{"kind": "something else"}', (), "broken.json line 1: not a Delighted survey response, person,"),
    ],
)
def test_import_delighted_names_the_file_and_line_of_a_bad_file_and_writes_nothing(tmp_path, content, args, message):
    name = "broken.csv" if content.startswith(("Score", "Email", "Note")) else "broken.json"
    path = tmp_path / name
    path.write_text(content)

    with pytest.raises(CommandError) as error:
        _run(str(path), *args)

    assert str(error.value).startswith(message)
    assert (DelightedImport.objects.count(), Response.objects.count()) == (0, 0)


def test_import_delighted_says_which_file_it_cannot_read(tmp_path):
    with pytest.raises(CommandError) as error:
        _run(str(tmp_path / "missing.json"))

    assert str(error.value) == f"{tmp_path / 'missing.json'}: cannot be read (No such file or directory)."
