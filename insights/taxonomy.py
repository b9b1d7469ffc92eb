"""The theme taxonomy and its candidates: create, rename, seed, merge, discover, promote, dismiss.

Owns `Theme` and `ThemeCandidate`. Every change that alters what a comment would be given marks the
comments for reading again (`surveys.services.analysis`), which the beat job `analyse-pending-comments`
then does in the background; a merge rewrites the merged theme's slug on the responses at once, so
figures never show a theme that no longer exists. Must not compute themes itself: `insights.text` does.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from insights.models import Theme, ThemeCandidate
from insights.text import ThemeSpec, discover
from insights.text.themes import compile_seed
from surveys.models import Response

RESERVED_SLUGS = {"other", "none", "all"}
MAX_SEEDS = 300
SEED_MAX_LENGTH = 100
DISCOVERY_WINDOW = 2000  # the latest `other` comments the nightly discovery reads


def themes_active() -> list[Theme]:
    return list(Theme.objects.all())


def taxonomy_specs() -> tuple[ThemeSpec, ...]:
    """The workspace's taxonomy as the engine takes it."""
    return tuple(
        ThemeSpec(slug, name, tuple(seeds)) for slug, name, seeds in Theme.objects.values_list("slug", "name", "seeds")
    )


def taxonomy_version() -> tuple:
    """Changes whenever a theme is added, changed or removed: the analyser's cache key."""
    stats = Theme.objects.aggregate(last=Max("updated_at"), top=Max("pk"))
    return (Theme.objects.count(), stats["last"], stats["top"])


def _clean_seeds(seeds) -> list[str]:
    if not isinstance(seeds, list | tuple) or not all(isinstance(s, str) for s in seeds):
        raise ValidationError({"seeds": [_("Give a list of phrases.")]})
    clean: list[str] = []
    for seed in seeds:
        seed = " ".join(seed.split())
        if not seed:
            continue
        if len(seed) > SEED_MAX_LENGTH or "\x00" in seed:
            raise ValidationError(
                {"seeds": [_("A phrase has at most %(count)s characters.") % {"count": SEED_MAX_LENGTH}]}
            )
        if compile_seed(seed) is None:
            raise ValidationError({"seeds": [_("“%(phrase)s” has no word to match.") % {"phrase": seed}]})
        if seed not in clean:
            clean.append(seed)
    if len(clean) > MAX_SEEDS:
        raise ValidationError({"seeds": [_("At most %(count)s phrases per theme.") % {"count": MAX_SEEDS}]})
    return clean


def _clean_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationError({"name": [_("This field is required.")]})
    if len(name) > 100 or "\x00" in name:
        raise ValidationError({"name": [_("At most 100 characters.")]})
    return name


def _comments_reread() -> int:
    """Flag every response with a comment for reading again (themes may have changed)."""
    return Response.objects.exclude(comment="").filter(analysis_pending=False).update(analysis_pending=True)


@transaction.atomic
def theme_create(*, name: str, seeds=(), slug: str = "") -> Theme:
    name = _clean_name(name)
    slug = (slug or slugify(name).replace("-", "_"))[:50]
    if not re.fullmatch(r"[a-z0-9_]+", slug or "-"):
        raise ValidationError({"slug": [_("Use lower-case letters, digits and underscores.")]})
    if slug in RESERVED_SLUGS or Theme.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [_("A theme “%(slug)s” already exists.") % {"slug": slug}]})
    position = (Theme.objects.aggregate(top=Max("position"))["top"] or 0) + 1
    theme = Theme.objects.create(slug=slug, name=name, seeds=_clean_seeds(list(seeds)), position=position)
    _comments_reread()
    return theme


def theme_rename(*, theme: Theme, name: str) -> Theme:
    theme.name = _clean_name(name)
    theme.save(update_fields=["name", "updated_at"])
    return theme


@transaction.atomic
def theme_set_seeds(*, theme: Theme, seeds) -> Theme:
    theme.seeds = _clean_seeds(seeds)
    theme.save(update_fields=["seeds", "updated_at"])
    _comments_reread()
    return theme


def theme_add_seeds(*, theme: Theme, seeds) -> Theme:
    return theme_set_seeds(theme=theme, seeds=[*theme.seeds, *_clean_seeds(seeds)])


@transaction.atomic
def theme_update(*, theme: Theme, name: str | None = None, seeds=None, add_seeds=None) -> Theme:
    """Rename and/or replace or extend the seeds, all or nothing."""
    if name is not None:
        theme_rename(theme=theme, name=name)
    if seeds is not None:
        theme_set_seeds(theme=theme, seeds=seeds)
    if add_seeds:
        theme_add_seeds(theme=theme, seeds=add_seeds)
    return theme


@transaction.atomic
def theme_merge(*, theme: Theme, into: Theme) -> Theme:
    """Fold `theme` into `into`: its seeds join, its comments carry `into`, and it is deleted."""
    from insights.theme_rollups import rollup_count_themes

    if theme.pk == into.pk:
        raise ValidationError({"into": [_("A theme cannot be merged into itself.")]})
    into.seeds = _clean_seeds([*into.seeds, *theme.seeds])[:MAX_SEEDS]
    into.save(update_fields=["seeds", "updated_at"])
    marker = f'"{theme.slug}"'
    for response in Response.objects.filter(themes__icontains=marker).only("pk", "themes").iterator(chunk_size=500):
        themes = [into.slug if slug == theme.slug else slug for slug in response.themes]
        response.themes = list(dict.fromkeys(themes))
        response.save(update_fields=["themes"])
        rollup_count_themes(response_id=response.pk)
    ThemeCandidate.objects.filter(theme=theme).update(theme=into)
    theme.delete()
    return into


def theme_delete(*, theme: Theme) -> None:
    with transaction.atomic():
        theme.delete()
        _comments_reread()


# --- Discovery -----------------------------------------------------------------------------------


def themes_discover(*, embedder, window: int = DISCOVERY_WINDOW, min_size: int = 3) -> list[ThemeCandidate]:
    """Group the latest `other` comments into candidate themes; replaces the open candidates."""
    rows = list(
        Response.objects.exclude(comment="")
        .filter(analysed_at__isnull=False, analysis_pending=False, themes=[])
        .order_by("-confirmed_at", "-pk")
        .values_list("pk", "comment")[:window]
    )
    comments = [comment for _pk, comment in rows]
    found = discover(comments, embedder.embed(comments), min_size=min_size) if len(rows) >= min_size else []
    now = timezone.now()
    with transaction.atomic():
        ThemeCandidate.objects.filter(status=ThemeCandidate.Status.OPEN).delete()
        return ThemeCandidate.objects.bulk_create(
            [
                ThemeCandidate(
                    key_phrases=list(candidate.key_phrases),
                    size=candidate.size,
                    typical_response_ids=[rows[i][0] for i in candidate.typical],
                    typical_comments=[rows[i][1] for i in candidate.typical],
                    discovered_at=now,
                )
                for candidate in found
            ]
        )


@transaction.atomic
def candidate_promote(*, candidate: ThemeCandidate, name: str = "", seeds=None) -> Theme:
    """Make a candidate a theme: named after its first key phrase unless named, seeded with its phrases."""
    candidate = ThemeCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != ThemeCandidate.Status.OPEN:
        raise ValidationError({"status": [_("This candidate was already promoted or dismissed.")]})
    phrases = list(seeds) if seeds is not None else list(candidate.key_phrases)
    theme = theme_create(name=name or (candidate.key_phrases or ["New theme"])[0].capitalize(), seeds=phrases)
    candidate.status = ThemeCandidate.Status.PROMOTED
    candidate.theme = theme
    candidate.save(update_fields=["status", "theme"])
    return theme


def candidate_dismiss(*, candidate: ThemeCandidate) -> ThemeCandidate:
    updated = ThemeCandidate.objects.filter(pk=candidate.pk, status=ThemeCandidate.Status.OPEN).update(
        status=ThemeCandidate.Status.DISMISSED
    )
    if not updated:
        raise ValidationError({"status": [_("This candidate was already promoted or dismissed.")]})
    candidate.refresh_from_db()
    return candidate
