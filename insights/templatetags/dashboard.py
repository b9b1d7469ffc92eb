from django import template

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    """A percentage for display; a dash when there is nothing to divide by."""
    return "–" if value is None else f"{value:g}%"
