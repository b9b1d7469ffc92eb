"""The console's Delighted import at `/settings/import/delighted/`: upload, map a CSV's columns, follow the
progress, read the summary. Managers only, as the rest of the console; thin over `delighted.imports`, the
work itself runs in the background (`delighted.tasks.run_delighted_import`)."""

import csv
import io
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from delighted.export_files import ExportFileError, csv_delimiter, csv_headers
from delighted.forms import ColumnsForm, UploadForm
from delighted.imports import (
    ExportFile,
    ImportSummary,
    delighted_import_create,
    delighted_import_map,
    export_file_decode,
)
from delighted.models import DelightedImport
from delighted.tasks import run_delighted_import
from feedback.decorators import manager_required

# An import neither waiting for its worker nor moving for this long lost its worker: it may be started again.
STALE_AFTER = timedelta(minutes=10)
LISTED = 20


def _page(request, template: str, context: dict, status: int = 200):
    return render(request, f"delighted/{template}", {"section": "import", **context}, status=status)


def _enqueue(delighted_import: DelightedImport) -> None:
    transaction.on_commit(lambda: run_delighted_import.delay(delighted_import.pk))


def _read_uploads(form: UploadForm) -> list[ExportFile] | None:
    files = []
    for upload in form.cleaned_data["files"]:
        if upload.size > settings.DELIGHTED_IMPORT_MAX_BYTES:
            limit = settings.DELIGHTED_IMPORT_MAX_BYTES // (1024 * 1024)
            form.add_error(
                "files",
                _("%(file)s is larger than %(limit)s MB: split it into pages, one file each.")
                % {"file": upload.name, "limit": limit},
            )
            return None
        try:
            files.append(ExportFile(upload.name, export_file_decode(upload.name, upload.read())))
        except ExportFileError as exc:
            form.add_error("files", str(exc))
            return None
    return files


@manager_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        files = _read_uploads(form)
        if files is not None:
            try:
                with transaction.atomic():
                    delighted_import = delighted_import_create(
                        files=files,
                        default_survey_type=form.cleaned_data["default_survey_type"],
                        started_by=request.user.email,
                    )
                    if delighted_import.status == DelightedImport.Status.WAITING:
                        _enqueue(delighted_import)
            except ExportFileError as exc:
                form.add_error("files", str(exc))
            else:
                if delighted_import.status == DelightedImport.Status.MAPPING:
                    return redirect("delighted-import-columns", import_id=delighted_import.pk)
                return redirect("delighted-import", import_id=delighted_import.pk)
    return _page(
        request,
        "import_start.html",
        {"form": form, "imports": DelightedImport.objects.all()[:LISTED]},
        status=400 if request.method == "POST" else 200,
    )


def _csv_files(delighted_import: DelightedImport) -> list:
    """Each stored CSV with its headers and first row, to show what a column holds."""
    files = []
    for file in delighted_import.files.order_by("pk"):
        if file.mapping:
            reader = csv.reader(io.StringIO(file.content), delimiter=csv_delimiter(file.content))
            next(reader, None)
            files.append((file, csv_headers(file.name, file.content), next(reader, [])))
    return files


@manager_required
@require_http_methods(["GET", "POST"])
def import_columns(request, import_id: int):
    delighted_import = get_object_or_404(DelightedImport, pk=import_id)
    if delighted_import.status != DelightedImport.Status.MAPPING:
        return redirect("delighted-import", import_id=delighted_import.pk)
    files = _csv_files(delighted_import)
    initial = {"default_survey_type": delighted_import.default_survey_type}
    form = ColumnsForm(request.POST or None, files=files, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                delighted_import_map(
                    delighted_import=delighted_import,
                    mappings=form.mappings(),
                    default_survey_type=form.cleaned_data["default_survey_type"],
                )
                _enqueue(delighted_import)
        except ExportFileError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            form.add_error(None, "; ".join(exc.messages))
        else:
            return redirect("delighted-import", import_id=delighted_import.pk)
    return _page(
        request,
        "import_columns.html",
        {"delighted_import": delighted_import, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _is_stale(delighted_import: DelightedImport) -> bool:
    moving = delighted_import.status in (DelightedImport.Status.WAITING, DelightedImport.Status.RUNNING)
    return moving and delighted_import.updated_at < timezone.now() - STALE_AFTER


def _can_restart(delighted_import: DelightedImport) -> bool:
    """A lost worker's import, or a failed one whose files are still here (the command's never are)."""
    failed = delighted_import.status == DelightedImport.Status.FAILED
    return _is_stale(delighted_import) or (failed and delighted_import.files.exists())


@manager_required
def import_progress(request, import_id: int):
    delighted_import = get_object_or_404(DelightedImport, pk=import_id)
    summary = ImportSummary.from_json(delighted_import.summary)
    return _page(
        request,
        "import_progress.html",
        {
            "delighted_import": delighted_import,
            "summary_lines": summary.lines() if delighted_import.summary else [],
            "moving": delighted_import.status in (DelightedImport.Status.WAITING, DelightedImport.Status.RUNNING),
            "can_restart": _can_restart(delighted_import),
        },
    )


@manager_required
@require_POST
def import_restart(request, import_id: int):
    """Start again an import whose worker was lost or which failed: what it imported is not imported twice."""
    delighted_import = get_object_or_404(DelightedImport, pk=import_id)
    if _can_restart(delighted_import):
        with transaction.atomic():
            delighted_import.status = DelightedImport.Status.WAITING
            delighted_import.save(update_fields=["status", "updated_at"])
            _enqueue(delighted_import)
    return redirect("delighted-import", import_id=delighted_import.pk)
