"""Which routing rule, if any, applies to a response. Pure: plain values in, a rule out.

Rules are tried in the given order; the first whose every condition holds wins, whether it
opens a follow-up or says not to. With no score range a rule matches detractors only.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from surveys.scoring import is_detractor


@dataclass(frozen=True)
class ResponseFacts:
    survey_id: int
    kind: str
    score: int
    comment: str = ""
    contact_properties: dict = field(default_factory=dict)
    event_properties: dict = field(default_factory=dict)
    themes: tuple[str, ...] = ()  # read from the comment by insights; empty until read
    sentiment: str = ""


@dataclass(frozen=True)
class RuleFacts:
    id: int
    survey_id: int | None = None
    kind: str = ""
    score_min: int | None = None
    score_max: int | None = None
    comment_contains: str = ""
    comment_is_empty: bool | None = None
    contact_properties: dict = field(default_factory=dict)
    event_properties: dict = field(default_factory=dict)
    theme: str = ""  # a theme slug the comment must carry
    sentiment: str = ""  # the comment's sentiment must be this
    opens_follow_up: bool = True

    @classmethod
    def of(cls, rule) -> "RuleFacts":
        """The facts of a stored routing rule (read from its attributes: this module imports no model)."""
        return cls(
            id=rule.pk,
            survey_id=rule.survey_id,
            kind=rule.kind,
            score_min=rule.score_min,
            score_max=rule.score_max,
            comment_contains=rule.comment_contains,
            comment_is_empty=rule.comment_is_empty,
            contact_properties=rule.contact_properties,
            event_properties=rule.event_properties,
            theme=rule.theme,
            sentiment=rule.sentiment,
            opens_follow_up=rule.opens_follow_up and rule.team_id is not None,
        )


def _properties_match(wanted: dict, actual: dict) -> bool:
    # Compared as text: properties arrive from JSON APIs where 42 and "42" mean the same order.
    return all(key in actual and str(actual[key]) == str(value) for key, value in wanted.items())


@dataclass(frozen=True)
class Check:
    """One condition of a rule, in words, and whether the answer meets it."""

    condition: str
    holds: bool


def _properties_checks(condition: str, wanted: dict, actual: dict) -> list[Check]:
    """`condition` names the property and its value: "contact property %(key)s is %(value)s"."""
    return [
        Check(condition % {"key": key, "value": repr(value)}, _properties_match({key: value}, actual))
        for key, value in wanted.items()
    ]


def rule_checks(response: ResponseFacts, rule: RuleFacts) -> list[Check]:
    """Each condition of `rule` with whether `response` meets it: the rule matches when all hold (the dry run
    shows them; `rule_matches` is their conjunction, so the two never disagree)."""
    checks = []
    if rule.survey_id is not None:
        checks.append(Check(_("survey is #%(id)s") % {"id": rule.survey_id}, rule.survey_id == response.survey_id))
    if rule.kind:
        checks.append(Check(_("survey kind is %(kind)s") % {"kind": rule.kind}, rule.kind == response.kind))
    if rule.score_min is None and rule.score_max is None:
        checks.append(Check(_("the answer is unhappy (a detractor's)"), is_detractor(response.kind, response.score)))
    else:
        low = "…" if rule.score_min is None else rule.score_min
        high = "…" if rule.score_max is None else rule.score_max
        within = (rule.score_min is None or response.score >= rule.score_min) and (
            rule.score_max is None or response.score <= rule.score_max
        )
        checks.append(Check(_("score is %(low)s–%(high)s") % {"low": low, "high": high}, within))
    comment = response.comment.strip()
    if rule.comment_is_empty is not None:
        wanted = _("the answer has no comment") if rule.comment_is_empty else _("the answer has a comment")
        checks.append(Check(wanted, rule.comment_is_empty == (comment == "")))
    if rule.comment_contains:
        contains = rule.comment_contains.casefold() in comment.casefold()
        checks.append(Check(_("comment contains “%(text)s”") % {"text": rule.comment_contains}, contains))
    # Theme and sentiment hold once the comment has been read (within a minute); the answer is routed again then.
    if rule.theme:
        checks.append(Check(_("comment is about %(theme)s") % {"theme": rule.theme}, rule.theme in response.themes))
    if rule.sentiment:
        checks.append(
            Check(_("comment is %(sentiment)s") % {"sentiment": rule.sentiment}, rule.sentiment == response.sentiment)
        )
    checks += _properties_checks(
        _("contact property %(key)s is %(value)s"), rule.contact_properties, response.contact_properties
    )
    checks += _properties_checks(
        _("event property %(key)s is %(value)s"), rule.event_properties, response.event_properties
    )
    return checks


def rule_matches(response: ResponseFacts, rule: RuleFacts) -> bool:
    return all(check.holds for check in rule_checks(response, rule))


def choose_rule(response: ResponseFacts, rules: list[RuleFacts]) -> RuleFacts | None:
    """The first matching rule if it opens a follow-up; None when no rule matches or the match says not to."""
    chosen = next((rule for rule in rules if rule_matches(response, rule)), None)
    return chosen if chosen is not None and chosen.opens_follow_up else None
