from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    """A percentage for display; a dash when there is nothing to divide by."""
    return "–" if value is None else f"{value:g}%"


@register.filter
def signed(value: float) -> str:
    """A change with its sign, in the reader's number format: +50.0, -50.0, 0."""
    return ("+" if value > 0 else "") + number_format(value)
