import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from delighted.export_files import csv_headers
from delighted.models import DelightedImport, DelightedImportFile
from surveys.models import Response
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


def _upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content if content is not None else (FIXTURES / name).read_bytes())


def _guessed(file: DelightedImportFile) -> dict[str, str]:
    """The column selects as the page fills them in (the stored mapping is keyed by header: jsonb keeps no order)."""
    return {f"f{file.pk}-{n}": file.mapping[header] for n, header in enumerate(csv_headers(file.name, file.content))}


@pytest.mark.parametrize("who", ["anonymous", "agent", "manager"])
@pytest.mark.parametrize("page", ["start", "progress", "columns"])
def test_import_pages_are_for_managers_only(client, request, who, page):
    delighted_import = DelightedImport.objects.create(status="mapping", file_names=["a.csv"])
    path = {
        "start": "/settings/import/delighted/",
        "progress": f"/settings/import/delighted/{delighted_import.pk}/",
        "columns": f"/settings/import/delighted/{delighted_import.pk}/columns/",
    }[page]
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    response = client.get(path)
    if who == "anonymous":
        assert (response.status_code, response["Location"]) == (302, f"/accounts/login/?next={path}")
    else:
        assert response.status_code == (200 if who == "manager" else 403)


def test_the_console_menu_links_the_import(client, manager):
    client.force_login(manager)
    html = client.get("/settings/").content.decode()
    assert '<a href="/settings/import/delighted/">Import from Delighted</a>' in html


def test_uploading_json_exports_imports_them_in_the_background_and_shows_the_summary(
    client, manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/settings/import/delighted/",
            {
                "files": [_upload("survey_responses_expanded.json"), _upload("unsubscribes.json")],
                "default_survey_type": "nps",
            },
        )
    delighted_import = DelightedImport.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/settings/import/delighted/{delighted_import.pk}/")
    assert (delighted_import.status, delighted_import.started_by) == ("done", "manager@closeloop.test")
    assert Response.objects.count() == 3

    html = client.get(response["Location"]).content.decode()
    assert '<progress id="import-progress" max="100" value="100">100%</progress>' in html
    assert "Imported: 3 responses (1 notes, 4 additional answers), 0 people, 2 unsubscribes, 0 bounces." in html
    assert "1 a survey type Closeloop does not ask (such as pmf) (e.g. survey_responses_expanded.json line 84)" in html
    assert 'http-equiv="refresh"' not in html  # done: the page stops refreshing


def test_a_running_import_refreshes_its_progress_page(client, manager):
    delighted_import = DelightedImport.objects.create(status="running", file_names=["a.json"], total=2000)
    DelightedImport.objects.filter(pk=delighted_import.pk).update(processed=500)
    client.force_login(manager)

    html = client.get(f"/settings/import/delighted/{delighted_import.pk}/").content.decode()

    assert '<meta http-equiv="refresh" content="2">' in html
    assert '<progress id="import-progress" max="100" value="25">25%</progress>' in html
    assert "500 of 2000 (25%)" in html
    assert "Start it again" not in html


def test_a_bad_file_is_named_with_its_line_on_the_form_and_nothing_is_stored(client, manager):
    client.force_login(manager)
    response = client.post(
        "/settings/import/delighted/",
        {
            "files": [_upload("people.json"), _upload("broken.json", b'[\n  {"id": "1",\n]')],
            "default_survey_type": "nps",
        },
    )
    assert response.status_code == 400
    assert "broken.json line 3: not valid JSON (Expecting property name enclosed in double quotes)." in (
        response.content.decode()
    )
    assert DelightedImport.objects.count() == 0


def test_a_file_that_is_not_utf8_is_refused_with_its_line(client, manager):
    client.force_login(manager)
    response = client.post(
        "/settings/import/delighted/",
        {"files": [_upload("export.csv", b"Score,Date\n9,2024-01-01\n\xff\xfe,x\n")], "default_survey_type": "nps"},
    )
    assert response.status_code == 400
    assert "export.csv line 3: not UTF-8 text; export it again as UTF-8." in response.content.decode()


def test_a_csv_goes_through_the_column_mapping_before_it_is_imported(
    client, manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    response = client.post(
        "/settings/import/delighted/", {"files": [_upload("responses.csv")], "default_survey_type": "csat"}
    )
    delighted_import = DelightedImport.objects.get()
    columns = f"/settings/import/delighted/{delighted_import.pk}/columns/"
    assert (response.status_code, response["Location"], delighted_import.status) == (302, columns, "mapping")

    html = client.get(columns).content.decode()
    file = DelightedImportFile.objects.get()
    # Delighted's headers are recognised; the first row shows what each column holds.
    assert f'<label for="id_f{file.pk}-4">Score</label></th><td>9</td>' in html
    assert '<option value="created_at" selected>Time of the answer</option>' in html
    assert '<option value="csat" selected>CSAT (1-5)</option>' in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            columns,
            {
                "default_survey_type": "nps",
                **_guessed(file),
                f"f{file.pk}-10": "ignore",  # "Plan" is not kept
            },
        )
    assert (response.status_code, response["Location"]) == (302, f"/settings/import/delighted/{delighted_import.pk}/")
    delighted_import.refresh_from_db()
    assert (delighted_import.status, delighted_import.summary["imported"]) == (
        "done",
        {"responses": 2, "comments_past_retention": 2, "notes": 1},
    )
    assert list(Response.objects.order_by("pk").values_list("score", "invitation__properties", "survey__kind")) == [
        (9, {"Delighted Source": "Email"}, "nps"),
        (4, {"Delighted Source": "Email"}, "nps"),
    ]


def test_a_mapping_without_a_score_column_is_refused_on_the_page(client, manager):
    client.force_login(manager)
    client.post("/settings/import/delighted/", {"files": [_upload("responses.csv")], "default_survey_type": "nps"})
    delighted_import = DelightedImport.objects.get()
    file = DelightedImportFile.objects.get()
    mapping = _guessed(file)

    response = client.post(
        f"/settings/import/delighted/{delighted_import.pk}/columns/",
        {"default_survey_type": "nps", **mapping, f"f{file.pk}-4": "comment"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert (
        "responses.csv: the columns &#x27;Score&#x27; and &#x27;Comment&#x27; both hold the comment; choose one."
        in html
    )
    delighted_import.refresh_from_db()
    assert (delighted_import.status, Response.objects.count()) == ("mapping", 0)


def test_an_import_whose_worker_was_lost_can_be_started_again(client, manager, django_capture_on_commit_callbacks):
    client.force_login(manager)
    delighted_import = DelightedImport.objects.create(status="running", file_names=["people.json"], total=3)
    DelightedImportFile.objects.create(
        delighted_import=delighted_import, name="people.json", content=(FIXTURES / "people.json").read_text()
    )
    DelightedImport.objects.filter(pk=delighted_import.pk).update(updated_at=timezone.now() - timedelta(minutes=11))
    page = f"/settings/import/delighted/{delighted_import.pk}/"
    assert "This import has not moved for ten minutes" in client.get(page).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{page}restart/")

    assert (response.status_code, response["Location"]) == (302, page)
    delighted_import.refresh_from_db()
    assert (delighted_import.status, delighted_import.summary["imported"]) == ("done", {"people": 2})


def test_a_moving_import_is_not_started_twice(client, manager, django_capture_on_commit_callbacks):
    client.force_login(manager)
    delighted_import = DelightedImport.objects.create(status="running", file_names=["people.json"], total=3)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(f"/settings/import/delighted/{delighted_import.pk}/restart/")

    delighted_import.refresh_from_db()
    assert (delighted_import.status, callbacks) == ("running", [])


def test_a_file_over_the_size_limit_is_refused_on_the_form(client, manager, settings):
    settings.DELIGHTED_IMPORT_MAX_BYTES = 2 * 1024 * 1024
    client.force_login(manager)
    response = client.post(
        "/settings/import/delighted/",
        {"files": [_upload("big.json", b"[" + b" " * (3 * 1024 * 1024) + b"]")], "default_survey_type": "nps"},
    )
    assert response.status_code == 400
    assert "big.json is larger than 2 MB: split it into pages, one file each." in response.content.decode()
    assert DelightedImport.objects.count() == 0


def test_uploading_nothing_says_a_file_is_needed(client, manager):
    client.force_login(manager)
    response = client.post("/settings/import/delighted/", {"default_survey_type": "pmf"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html
    assert "Select a valid choice. pmf is not one of the available choices." in html


def test_a_failed_import_without_its_files_cannot_be_started_again(client, manager, django_capture_on_commit_callbacks):
    # The command's imports keep no files; an erasure or the retention purge may have deleted an upload's.
    delighted_import = DelightedImport.objects.create(
        status="failed", file_names=["people.json"], total=3, error="stopped", summary={"imported": {"people": 1}}
    )
    client.force_login(manager)
    assert "Start it again" not in client.get(f"/settings/import/delighted/{delighted_import.pk}/").content.decode()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(f"/settings/import/delighted/{delighted_import.pk}/restart/")

    delighted_import.refresh_from_db()
    assert (delighted_import.status, delighted_import.summary, callbacks) == ("failed", {"imported": {"people": 1}}, [])


def test_a_french_speaking_manager_reads_the_import_pages_in_french(client):
    client.force_login(ManagerFactory(email="chef@closeloop.test", language="fr"))
    delighted_import = DelightedImport.objects.create(status="mapping", file_names=["a.csv"], total=4)

    start = client.get("/settings/import/delighted/").content.decode()
    progress = client.get(f"/settings/import/delighted/{delighted_import.pk}/").content.decode()
    columns = client.get(f"/settings/import/delighted/{delighted_import.pk}/columns/").content.decode()

    assert "<h1>Importer depuis Delighted</h1>" in start
    assert '<h2 id="upload-title">Téléversez votre export</h2>' in start
    assert "<td>0 sur 4</td>" in start
    assert f"<h1>Import Delighted n° {delighted_import.pk}</h1>" in progress
    assert '<label for="import-progress">Enregistrements lus</label>' in progress
    assert "<h1>Que contient chaque colonne ?</h1>" in columns


SUMMARY = {
    "imported": {"responses": 3, "notes": 1, "people": 2},
    "skipped": {"bad_score": 2},
    "examples": {"bad_score": ["r.csv line 4", "r.csv line 9"]},
    "surveys": ["NPS (Delighted)"],
}


@pytest.mark.parametrize(
    ("language", "state", "lines"),
    [
        (
            "fr",
            "Terminé",
            [
                "Importé : 3 réponses (1 notes, 0 réponses aux questions complémentaires), 2 personnes, "
                "0 désinscriptions, 0 rebonds.",
                "Les réponses sont dans : NPS (Delighted).",
                "Ignorés : 2.",
                "2 : pas de note, ou une note hors de l&#x27;échelle du type d&#x27;enquête (par ex. r.csv line 4, "
                "r.csv line 9)",
            ],
        ),
        (
            "en",
            "Done",
            [
                "Imported: 3 responses (1 notes, 0 additional answers), 2 people, 0 unsubscribes, 0 bounces.",
                "Answers are in: NPS (Delighted).",
                "Skipped: 2.",
                "2 no score, or a score outside the survey type&#x27;s scale (e.g. r.csv line 4, r.csv line 9)",
            ],
        ),
    ],
)
def test_an_imports_state_and_summary_are_in_the_managers_language(client, language, state, lines):
    client.force_login(ManagerFactory(email=f"{language}@closeloop.test", language=language))
    done = DelightedImport.objects.create(status="done", file_names=["r.csv"], total=5, processed=5, summary=SUMMARY)

    progress = client.get(f"/settings/import/delighted/{done.pk}/").content.decode()
    start = client.get("/settings/import/delighted/").content.decode()

    assert f"<p><strong>{state}</strong>" in progress
    assert [line.strip() for line in re.findall(r"<li>(.*?)</li>", progress.split('<ul class="card">')[1])] == lines
    assert f"<td>{state}</td>" in start


def test_a_french_speaking_manager_maps_columns_and_uploads_with_french_fields(client):
    client.force_login(ManagerFactory(email="chef@closeloop.test", language="fr"))
    mapping = DelightedImport.objects.create(status="mapping", file_names=["r.csv"], total=1)
    DelightedImportFile.objects.create(
        delighted_import=mapping, name="r.csv", content="Note,Quand\n9,2024-01-01\n", mapping={"Note": "property"}
    )

    columns = client.get(f"/settings/import/delighted/{mapping.pk}/columns/").content.decode()
    refused = client.post(
        f"/settings/import/delighted/{mapping.pk}/columns/",
        {
            "default_survey_type": "nps",
            f"f{mapping.files.get().pk}-0": "comment",
            f"f{mapping.files.get().pk}-1": "ignore",
        },
    )
    start = client.get("/settings/import/delighted/").content.decode()

    assert '<option value="created_at">Date de la réponse</option>' in columns
    assert "Type d&#x27;enquête des lignes qui ne l&#x27;indiquent pas" in columns
    assert refused.status_code == 400
    assert "r.csv : aucune colonne ne contient « note » ; choisissez-en une." in refused.content.decode()
    assert '<label for="id_files">Fichiers d&#x27;export</label>' in start
