"""Writes on a survey itself."""

from surveys.models import Survey


def survey_mark_fix_check(*, survey_id: int) -> None:
    """Flag the survey as asking whether a case was fixed; the flag stays when it stops being used as one,
    since its answers so far still are such answers (a manager may clear it in the admin)."""
    Survey.objects.filter(pk=survey_id, is_fix_check=False).update(is_fix_check=True)
