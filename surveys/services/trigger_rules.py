"""Trigger rules' writes (the API's create and update); the cached list is `surveys.selectors`'."""

from surveys.models import TriggerRule


def trigger_rule_create(**fields) -> TriggerRule:
    return TriggerRule.objects.create(**fields)


def trigger_rule_update(*, rule: TriggerRule, **fields) -> TriggerRule:
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.save()
    return rule
