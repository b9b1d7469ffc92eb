"""The respondent page's score buttons, rendered once per process for each way they can look.

The buttons depend only on the scale's scores and words, the score already picked and whether an error is shown:
a few hundred variants at most, while every page view rendered them again (eleven buttons for NPS, each a
localised number and three lookups: half of the page's template time).
"""

from functools import lru_cache

from django import template
from django.template.loader import render_to_string

register = template.Library()


@lru_cache(maxsize=1024)
def _score_scale_html(buttons: tuple[tuple[int, str, str], ...], selected: int | None, error: bool) -> str:
    rows = [{"score": score, "shows": shows, "name": name} for score, shows, name in buttons]
    return render_to_string("surveys/_score_scale.html", {"buttons": rows, "selected": selected, "error": error})


@register.simple_tag
def score_scale(buttons: list[dict], selected: int | None, error: str) -> str:
    """The radio buttons of `buttons` (`surveys.scales.score_buttons`), `selected` checked, tied to the error."""
    key = tuple((button["score"], button["shows"], button["name"]) for button in buttons)
    return _score_scale_html(key, selected, bool(error))
