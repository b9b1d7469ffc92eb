from hypothesis import given
from hypothesis import strategies as st

from surveys.conditions import conditions_errors, conditions_match

numbers = st.one_of(st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6, allow_nan=False))
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10))


def test_conditions_match_equals_in_exists_and_compare():
    properties = {"amount": 120, "store": "Lyon", "customer": {"plan": "pro"}, "note": None}

    assert conditions_match([{"property": "store", "op": "equals", "value": "Lyon"}], properties)
    assert not conditions_match([{"property": "store", "op": "equals", "value": "Paris"}], properties)
    assert conditions_match([{"property": "customer.plan", "op": "in", "value": ["pro", "team"]}], properties)
    assert conditions_match([{"property": "amount", "op": "exists"}], properties)
    assert not conditions_match([{"property": "note", "op": "exists"}], properties)
    assert conditions_match([{"property": "coupon", "op": "exists", "value": False}], properties)
    assert conditions_match([{"property": "amount", "op": "gte", "value": "120"}], properties)
    assert not conditions_match([{"property": "amount", "op": "gt", "value": 120}], properties)
    assert conditions_match([{"property": "amount", "op": "lt", "value": 120.5}], properties)


def test_conditions_match_numeric_compare_on_text_or_missing_is_false():
    assert not conditions_match([{"property": "amount", "op": "gt", "value": 1}], {"amount": "lots"})
    assert not conditions_match([{"property": "amount", "op": "gt", "value": 1}], {})
    assert not conditions_match([{"property": "amount", "op": "gt", "value": 0}], {"amount": True})


def test_conditions_match_empty_list_matches_everything():
    assert conditions_match([], {})


def test_conditions_errors_name_each_problem():
    errors = conditions_errors(
        [
            {"property": "amount", "op": "bigger", "value": 1},
            {"property": "", "op": "exists"},
            {"property": "store", "op": "in", "value": "Lyon"},
            {"property": "amount", "op": "gte", "value": "many"},
            "amount > 3",
        ]
    )

    assert errors == [
        "Condition 1: op must be one of equals, in, exists, gt, gte, lt, lte.",
        'Condition 2: give the property to test, e.g. "amount".',
        'Condition 3: "in" needs a list value.',
        'Condition 4: "gte" needs a number value.',
        "Condition 5: give an object with property, op and value.",
    ]
    assert conditions_errors({"property": "x"}) == ["Give a list of conditions."]
    assert conditions_errors([{"property": "amount", "op": "lte", "value": 3}]) == []


@given(value=numbers, bound=numbers)
def test_conditions_match_compare_agrees_with_python(value, bound):
    properties = {"amount": value}

    assert conditions_match([{"property": "amount", "op": "gt", "value": bound}], properties) == (value > bound)
    assert conditions_match([{"property": "amount", "op": "lte", "value": bound}], properties) == (value <= bound)
    # gt and lte partition every pair of numbers.
    assert conditions_match([{"property": "amount", "op": "gt", "value": bound}], properties) != conditions_match(
        [{"property": "amount", "op": "lte", "value": bound}], properties
    )


@given(
    properties=st.dictionaries(st.text(min_size=1, max_size=5), json_scalars, max_size=5),
    key=st.text(min_size=1, max_size=5),
)
def test_conditions_match_in_and_equals_agree(properties, key):
    if key not in properties:
        assert not conditions_match([{"property": key, "op": "equals", "value": None}], properties)
        return
    value = properties[key]
    assert conditions_match([{"property": key, "op": "equals", "value": value}], properties)
    assert conditions_match([{"property": key, "op": "in", "value": [value]}], properties)


@given(
    conditions=st.lists(
        st.fixed_dictionaries({"property": st.sampled_from(["a", "b"]), "op": st.just("exists")}), max_size=4
    ),
    properties=st.dictionaries(st.sampled_from(["a", "b"]), st.integers(), max_size=2),
)
def test_conditions_match_is_the_conjunction_of_each(conditions, properties):
    assert conditions_match(conditions, properties) == all(conditions_match([c], properties) for c in conditions)
