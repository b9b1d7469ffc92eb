import pytest

from feedback.routing import ResponseFacts, RuleFacts, choose_rule, rule_checks, rule_matches


def _response(**overrides):
    return ResponseFacts(**{"survey_id": 1, "kind": "nps", "score": 3, **overrides})


def test_rule_matches_detractors_of_every_kind_by_default():
    rule = RuleFacts(id=1)

    assert [
        rule_matches(_response(kind=kind, score=score), rule)
        for kind, score in [("nps", 6), ("csat", 2), ("ces", 3), ("five_star", 2), ("thumbs", 0)]
    ] == [True] * 5
    assert [
        rule_matches(_response(kind=kind, score=score), rule)
        for kind, score in [("nps", 7), ("csat", 3), ("ces", 4), ("five_star", 3), ("thumbs", 1)]
    ] == [False] * 5


def test_rule_matches_survey_and_kind():
    assert rule_matches(_response(survey_id=2), RuleFacts(id=1, survey_id=2))
    assert not rule_matches(_response(survey_id=3), RuleFacts(id=1, survey_id=2))
    assert not rule_matches(_response(kind="csat", score=1), RuleFacts(id=1, kind="nps"))


@pytest.mark.parametrize(("score", "matches"), [(6, False), (7, True), (8, True), (9, False)])
def test_rule_matches_score_range(score, matches):
    assert rule_matches(_response(score=score), RuleFacts(id=1, score_min=7, score_max=8)) is matches


def test_rule_matches_comment_contains_case_insensitively():
    rule = RuleFacts(id=1, comment_contains="refund")

    assert rule_matches(_response(comment="I want a REFUND now"), rule)
    assert not rule_matches(_response(comment="late again"), rule)


def test_rule_matches_comment_is_empty():
    assert rule_matches(_response(comment="  "), RuleFacts(id=1, comment_is_empty=True))
    assert not rule_matches(_response(comment="late"), RuleFacts(id=1, comment_is_empty=True))
    assert rule_matches(_response(comment="late"), RuleFacts(id=1, comment_is_empty=False))


def test_rule_matches_contact_and_event_properties_as_text():
    rule = RuleFacts(id=1, contact_properties={"plan": "pro"}, event_properties={"store": 42})

    assert rule_matches(_response(contact_properties={"plan": "pro"}, event_properties={"store": "42"}), rule)
    assert not rule_matches(_response(contact_properties={"plan": "free"}, event_properties={"store": "42"}), rule)
    assert not rule_matches(_response(contact_properties={"plan": "pro"}), rule)


def test_choose_rule_takes_the_first_match_in_order():
    rules = [RuleFacts(id=1, survey_id=9), RuleFacts(id=2), RuleFacts(id=3)]

    assert choose_rule(_response(), rules).id == 2


def test_choose_rule_returns_none_when_the_first_match_opens_nothing():
    rules = [RuleFacts(id=1, comment_is_empty=True, opens_follow_up=False), RuleFacts(id=2)]

    assert choose_rule(_response(comment=""), rules) is None
    assert choose_rule(_response(comment="broken"), rules).id == 2


def test_choose_rule_returns_none_without_rules():
    assert choose_rule(_response(), []) is None


def test_rule_matches_the_comments_theme_once_read():
    rule = RuleFacts(id=1, theme="billing_refund")
    assert rule_matches(_response(themes=("delivery", "billing_refund")), rule)
    assert not rule_matches(_response(themes=("delivery",)), rule)
    assert not rule_matches(_response(), rule)  # not read yet


def test_rule_matches_the_comments_sentiment_a_promoter_with_a_complaint():
    rule = RuleFacts(id=1, score_min=9, score_max=10, sentiment="negative")
    assert rule_matches(_response(score=10, sentiment="negative"), rule)
    assert not rule_matches(_response(score=10, sentiment="positive"), rule)
    assert not rule_matches(_response(score=3, sentiment="negative"), rule)


def test_rule_checks_name_each_condition_and_whether_it_holds():
    rule = RuleFacts(
        id=1,
        survey_id=1,
        score_max=6,
        comment_contains="refund",
        comment_is_empty=False,
        theme="billing_refund",
        sentiment="negative",
        contact_properties={"plan": "pro"},
        event_properties={"store": "Lyon"},
    )
    answer = _response(
        score=2,
        comment="Where is my refund?",
        themes=("billing_refund",),
        sentiment="neutral",
        contact_properties={"plan": "pro"},
        event_properties={"store": "Nice"},
    )

    assert [(check.condition, check.holds) for check in rule_checks(answer, rule)] == [
        ("survey is #1", True),
        ("score is …–6", True),
        ("the answer has a comment", True),
        ("comment contains “refund”", True),
        ("comment is about billing_refund", True),
        ("comment is negative", False),
        ("contact property plan is 'pro'", True),
        ("event property store is 'Lyon'", False),
    ]
    assert rule_matches(answer, rule) is False
    assert [(c.condition, c.holds) for c in rule_checks(_response(score=8), RuleFacts(id=2))] == [
        ("the answer is unhappy (a detractor's)", False)
    ]
