"""Which routing rule, if any, applies to a response. Pure: plain values in, a rule out.

Rules are tried in the given order; the first whose every condition holds wins, whether it
opens a follow-up or says not to. With no score range a rule matches detractors only.
"""

from dataclasses import dataclass, field

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


def _properties_match(wanted: dict, actual: dict) -> bool:
    # Compared as text: properties arrive from JSON APIs where 42 and "42" mean the same order.
    return all(key in actual and str(actual[key]) == str(value) for key, value in wanted.items())


def rule_matches(response: ResponseFacts, rule: RuleFacts) -> bool:
    if rule.survey_id is not None and rule.survey_id != response.survey_id:
        return False
    if rule.kind and rule.kind != response.kind:
        return False
    if rule.score_min is None and rule.score_max is None:
        if not is_detractor(response.kind, response.score):
            return False
    elif (rule.score_min is not None and response.score < rule.score_min) or (
        rule.score_max is not None and response.score > rule.score_max
    ):
        return False
    comment = response.comment.strip()
    if rule.comment_is_empty is not None and rule.comment_is_empty != (comment == ""):
        return False
    if rule.comment_contains and rule.comment_contains.casefold() not in comment.casefold():
        return False
    # Theme and sentiment hold once the comment has been read (within a minute); the answer is routed again then.
    if rule.theme and rule.theme not in response.themes:
        return False
    if rule.sentiment and rule.sentiment != response.sentiment:
        return False
    return _properties_match(rule.contact_properties, response.contact_properties) and _properties_match(
        rule.event_properties, response.event_properties
    )


def choose_rule(response: ResponseFacts, rules: list[RuleFacts]) -> RuleFacts | None:
    """The first matching rule if it opens a follow-up; None when no rule matches or the match says not to."""
    chosen = next((rule for rule in rules if rule_matches(response, rule)), None)
    return chosen if chosen is not None and chosen.opens_follow_up else None
