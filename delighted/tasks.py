"""Background jobs of the Delighted app; each calls one service and holds no rule of its own."""

from celery import shared_task

from delighted.imports import delighted_import_run
from delighted.models import DelightedImport
from delighted.services import autopilot_invite_due


@shared_task
def invite_due_autopilot_members() -> int:
    return autopilot_invite_due()


@shared_task
def run_delighted_import(import_id: int) -> str:
    """Run an uploaded import; running one again (a lost worker) imports nothing twice."""
    delighted_import = DelightedImport.objects.filter(pk=import_id).first()
    if delighted_import is None or delighted_import.status in (
        DelightedImport.Status.MAPPING,
        DelightedImport.Status.DONE,
    ):
        return "nothing to do"
    return delighted_import_run(delighted_import=delighted_import).status
