"""Start-up checks of the retention settings (docs/retention.md): a wrong value stops the start with its reason,
rather than purging too much or nothing."""

from django.conf import settings
from django.core.checks import Error, register

from config.retention import FOREVER, retention_days
from workspace.services.retention import purgeables

MAX_BATCH_SIZE = 10_000  # a batch is one transaction holding its rows' locks: keep it short


@register("retention")
def retention_settings_check(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    minimums: dict[str, list] = {}
    for purgeable in purgeables():
        minimums.setdefault(purgeable.setting, []).append(purgeable)
    for setting, kinds in minimums.items():
        value = getattr(settings, setting, None)
        try:
            days = retention_days(value)
        except ValueError:
            errors.append(
                Error(
                    f"{setting}={value!r}: use a whole number of days or {FOREVER!r}.",
                    hint=f"It sets how long {', '.join(kind.label for kind in kinds)} are kept (docs/retention.md).",
                    id="retention.E001",
                )
            )
            continue
        strictest = max(kinds, key=lambda kind: kind.minimum_days)
        if days is not None and days < strictest.minimum_days:
            errors.append(
                Error(
                    f"{setting}={days}: {strictest.label} must be kept at least {strictest.minimum_days} day(s).",
                    hint=strictest.why_minimum or None,
                    id="retention.E002",
                )
            )
    size = settings.RETENTION_PURGE_BATCH_SIZE
    if not 1 <= size <= MAX_BATCH_SIZE:
        errors.append(
            Error(
                f"RETENTION_PURGE_BATCH_SIZE={size}: use 1 to {MAX_BATCH_SIZE} rows.",
                hint="Each batch is one transaction that holds its rows' locks until it commits.",
                id="retention.E003",
            )
        )
    target = settings.RETENTION_PURGE_BATCH_SECONDS
    if target <= 0:
        errors.append(
            Error(
                f"RETENTION_PURGE_BATCH_SECONDS={target:g}: use a positive number of seconds.",
                hint="A batch slower than this makes the next one smaller.",
                id="retention.E006",
            )
        )
    duty = settings.RETENTION_PURGE_DUTY
    if not 0 < duty <= 1:
        errors.append(
            Error(
                f"RETENTION_PURGE_DUTY={duty:g}: use more than 0 and at most 1.",
                hint="The share of the time the purge works; it rests the rest (1: no rest).",
                id="retention.E007",
            )
        )
    budget, soft_limit = settings.RETENTION_PURGE_MAX_SECONDS, settings.CELERY_TASK_SOFT_TIME_LIMIT
    if not 0 < budget < soft_limit:
        errors.append(
            Error(
                f"RETENTION_PURGE_MAX_SECONDS={budget:g}: use more than 0 and less than the task's soft time limit"
                f" ({soft_limit} s).",
                hint="A run stops at its budget and the next run carries on; beyond the limit the task is killed.",
                id="retention.E004",
            )
        )
    interval = settings.RETENTION_PURGE_INTERVAL_SECONDS
    if interval <= 0:
        errors.append(
            Error(
                f"RETENTION_PURGE_INTERVAL_SECONDS={interval:g}: use a positive number.",
                id="retention.E005",
            )
        )
    return errors
