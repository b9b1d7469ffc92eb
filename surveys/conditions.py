"""Trigger rule conditions: pure checks of an event's properties, no database.

A condition is `{"property": "amount", "op": "gte", "value": 50}`; a dotted property reads
nested objects (`customer.plan`). A rule's conditions all have to hold.
"""

from typing import Any

from django.utils.translation import gettext as _

OPERATORS = ("equals", "in", "exists", "gt", "gte", "lt", "lte")
NUMERIC = {"gt": float.__gt__, "gte": float.__ge__, "lt": float.__lt__, "lte": float.__le__}
_MISSING = object()


def _lookup(properties: dict, path: str) -> Any:
    value: Any = properties
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _number(value: Any) -> float | None:
    # Booleans are ints in Python, but "true > 3" is never what a rule author meant.
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if number == number else None  # NaN compares false with everything
    return None


def condition_holds(condition: dict, properties: dict) -> bool:
    value = _lookup(properties, condition["property"])
    op, expected = condition["op"], condition.get("value")
    if op == "exists":
        present = value is not _MISSING and value is not None
        return present if expected is None else present == bool(expected)
    if value is _MISSING:
        return False
    if op == "equals":
        return value == expected
    if op == "in":
        return value in expected
    left, right = _number(value), _number(expected)
    if left is None or right is None:
        return False
    return NUMERIC[op](left, right)


def conditions_match(conditions: list[dict], properties: dict) -> bool:
    return all(condition_holds(condition, properties) for condition in conditions)


def conditions_errors(conditions: Any) -> list[str]:
    """What is wrong with a list of conditions, as messages for the person who wrote them."""
    if not isinstance(conditions, list):
        return [_("Give a list of conditions.")]
    errors = []
    for index, condition in enumerate(conditions):
        values = {"n": index + 1, "op": condition.get("op") if isinstance(condition, dict) else None}
        if not isinstance(condition, dict):
            errors.append(_("Condition %(n)s: give an object with property, op and value.") % values)
            continue
        prop, op = condition.get("property"), condition.get("op")
        if not isinstance(prop, str) or not prop.strip("."):
            errors.append(_('Condition %(n)s: give the property to test, e.g. "amount".') % values)
        if op not in OPERATORS:
            errors.append(_("Condition %(n)s: op must be one of %(ops)s.") % {**values, "ops": ", ".join(OPERATORS)})
        elif op == "in" and not isinstance(condition.get("value"), list):
            errors.append(_('Condition %(n)s: "in" needs a list value.') % values)
        elif op in NUMERIC and _number(condition.get("value")) is None:
            errors.append(_('Condition %(n)s: "%(op)s" needs a number value.') % values)
        elif op == "equals" and "value" not in condition:
            errors.append(_('Condition %(n)s: "equals" needs a value.') % values)
    return errors
