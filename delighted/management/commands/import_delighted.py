"""`manage.py import_delighted <files...>`: bring a team's Delighted history in (delighted/imports.py: what is kept)."""

import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from delighted.export_files import CSV_FIELDS, ExportFileError, csv_headers
from delighted.imports import (
    SURVEY_KINDS,
    ExportFile,
    ImportSummary,
    delighted_import_create,
    delighted_import_run,
    export_file_decode,
    export_file_mapping,
)

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Import a Delighted export: JSON of survey responses (with or without expand[]=person), people, unsubscribes "
        "and bounces as the API returns them (one page or several per file), and CSV of responses. Importing the "
        "same files again imports nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="JSON or CSV files, in any order (people are read first).")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help=f"What a CSV column holds, over what its header suggests; FIELD is one of {', '.join(CSV_FIELDS)}.",
        )
        parser.add_argument(
            "--survey-type",
            default="nps",
            choices=sorted(SURVEY_KINDS),
            help="The survey type of CSV rows without a survey type column (default nps).",
        )
        parser.add_argument(
            "--progress",
            action="store_true",
            default=None,
            help="Draw the progress bar even when the output is not a terminal (it is drawn on a terminal).",
        )

    def handle(self, *args, files: list[str], map: list[str], survey_type: str, progress: bool | None, **options):
        overrides = {}
        for item in map:
            column, sep, field = item.rpartition("=")
            if not sep or not column or field not in CSV_FIELDS:
                raise CommandError(f"--map {item!r}: write COLUMN=FIELD, FIELD one of {', '.join(CSV_FIELDS)}.")
            overrides[column] = field
        exports = [self._read(path, overrides) for path in files]
        for export in exports:
            if export.is_csv:
                mapping = export_file_mapping(export)
                self.stdout.write(f"{export.name}: " + "; ".join(f"{h} → {CSV_FIELDS[f]}" for h, f in mapping.items()))
        try:
            delighted_import = delighted_import_create(
                files=exports, default_survey_type=survey_type, started_by="manage.py import_delighted", store=False
            )
        except ExportFileError as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        draw = progress if progress is not None else sys.stderr.isatty()
        self.stdout.write(f"{delighted_import.total} records in {len(exports)} file(s); import {delighted_import.pk}.")
        delighted_import = delighted_import_run(
            delighted_import=delighted_import, files=exports, progress=self._bar if draw else None
        )
        if draw:
            self.stderr.write("")
        if delighted_import.error:
            raise CommandError(delighted_import.error)
        for line in ImportSummary.from_json(delighted_import.summary).lines():
            self.stdout.write(line)

    def _read(self, path: str, overrides: dict[str, str]) -> ExportFile:
        file = Path(path)
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot be read ({exc.strerror}).") from exc
        try:
            text = export_file_decode(file.name, content)
            export = ExportFile(file.name, text)
            if export.is_csv:
                headers = csv_headers(file.name, text)
                export = ExportFile(file.name, text, {k: v for k, v in overrides.items() if k in headers})
        except ExportFileError as exc:
            raise CommandError(str(exc)) from exc
        return export

    def _bar(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        percent = 100 * done // total if total else 100
        self.stderr.write(f"\r[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {percent:3d}% {done:,}/{total:,}", ending="")
        self.stderr.flush()
