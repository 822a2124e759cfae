"""Tests of the follow-up scoring: EQ-5D-3L index, VAS, STAI-6 and real change."""

import contextlib
import itertools
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followup.scoring import (
    EQ5D3L_VALUE_SET,
    EQ5D_DIMENSIONS,
    REAL_CHANGE,
    STAI6_ITEMS,
    STAI6_REVERSED,
    eq5d3l_index,
    is_real_change,
    stai6_score,
    validate_vas,
)

# Independent EQ-5D-3L UK TTO (Dolan 1997) reference: published coefficients as exact fractions,
# one lookup table per dimension, the constant and N3 terms applied to the whole profile.
_DOLAN = {
    "MO": {1: "0", 2: "0.069", 3: "0.314"},
    "SC": {1: "0", 2: "0.104", 3: "0.214"},
    "UA": {1: "0", 2: "0.036", 3: "0.094"},
    "PD": {1: "0", 2: "0.123", 3: "0.386"},
    "AD": {1: "0", 2: "0.071", 3: "0.236"},
}
_DOLAN_ORDER = ("MO", "SC", "UA", "PD", "AD")
_DOLAN_CONSTANT = Fraction("0.081")
_DOLAN_N3 = Fraction("0.269")

ALL_STATES = list(itertools.product((1, 2, 3), repeat=5))


def reference_index(state):
    levels = dict(zip(_DOLAN_ORDER, state, strict=True))
    value = Fraction(1)
    value -= sum((Fraction(_DOLAN[dim][level]) for dim, level in levels.items()), Fraction(0))
    value -= _DOLAN_CONSTANT * (max(state) >= 2)
    value -= _DOLAN_N3 * (3 in state)
    return round(value, 3)


def state_string(state):
    return "".join(map(str, state))


# --- EQ-5D-3L -------------------------------------------------------------------------------


def test_there_are_243_distinct_states():
    assert len(ALL_STATES) == 243
    assert len({state_string(s) for s in ALL_STATES}) == 243


@pytest.mark.parametrize("state", ALL_STATES, ids=state_string)
def test_every_state_matches_independent_reference(state):
    expected = reference_index(state)
    from_string = eq5d3l_index(state_string(state))
    assert isinstance(from_string, float)
    # Exact comparison: the float must be the one nearest the 3-decimal reference value.
    assert Fraction(str(from_string)) == expected
    assert from_string == float(expected)
    assert eq5d3l_index(list(state)) == from_string
    assert eq5d3l_index(tuple(state)) == from_string


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("11111", 1.000),
        ("11112", 0.848),
        ("21111", 0.850),
        ("22222", 0.516),
        ("33333", -0.594),
    ],
)
def test_published_check_values(profile, expected):
    assert eq5d3l_index(profile) == expected


def test_index_is_already_rounded_to_three_decimals():
    for state in ALL_STATES:
        value = eq5d3l_index(state)
        assert round(value, 3) == value
        assert -0.594 <= value <= 1.0


def test_worse_level_never_gives_higher_index():
    for state in ALL_STATES:
        for position in range(5):
            if state[position] < 3:
                worse = list(state)
                worse[position] += 1
                assert eq5d3l_index(worse) < eq5d3l_index(state)


def test_constants():
    assert EQ5D3L_VALUE_SET == "UK TTO (Dolan 1997)"
    assert EQ5D_DIMENSIONS == (
        "mobility",
        "self_care",
        "usual_activities",
        "pain_discomfort",
        "anxiety_depression",
    )
    assert REAL_CHANGE == {"eq5d_index": 0.10, "eq5d_vas": 10, "stai6": 2}


def test_dimension_order_matters():
    # Mobility at level 2 costs 0.069, anxiety at level 2 costs 0.071.
    assert eq5d3l_index("21111") == 0.850
    assert eq5d3l_index("11112") == 0.848
    assert eq5d3l_index([1, 1, 1, 1, 2]) == 0.848


def test_wrong_length_message():
    with pytest.raises(ValueError, match=r"must have 5 digits, got 4: '2123'"):
        eq5d3l_index("2123")


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ("2123", "5 digits"),
        ("212321", "5 digits"),
        ("", "5 digits"),
        ("2123a", "digits 1-3"),
        ("21 32", "digits 1-3"),
        ("-1111", "digits 1-3"),
        ("2123.", "digits 1-3"),
        ("\uff12\uff11\uff12\uff13\uff12", "digits 1-3"),  # full-width digits
        ("21032", "1, 2 or 3"),
        ("21432", "1, 2 or 3"),
        ("91111", "1, 2 or 3"),
        (21232, "got int"),
        (2.5, "got float"),
        (None, "got NoneType"),
        (b"21232", "got bytes"),
        ({1, 2, 3}, "got set"),
        ({"mobility": 1}, "got dict"),
        ([2, 1, 2, 3], "5 levels"),
        ([2, 1, 2, 3, 2, 1], "5 levels"),
        ((), "5 levels"),
        ([2, 1, "2", 3, 2], "must be an int"),
        ([2, 1, 2.0, 3, 2], "must be an int"),
        ([True, 1, 1, 1, 1], "must be an int"),
        ([None, 1, 1, 1, 1], "must be an int"),
        ([0, 1, 1, 1, 1], "1, 2 or 3"),
        ([1, 1, 1, 1, 4], "1, 2 or 3"),
        ([1, 1, -2, 1, 1], "1, 2 or 3"),
    ],
)
def test_invalid_profile_raises_value_error(profile, message):
    with pytest.raises(ValueError, match=message):
        eq5d3l_index(profile)


def test_invalid_level_message_names_dimension():
    with pytest.raises(ValueError, match="pain_discomfort"):
        eq5d3l_index("11141")


# --- STAI-6 ---------------------------------------------------------------------------------


def reference_stai6(answers):
    calm, tense, upset, relaxed, content, worried = answers
    return (5 - calm) + tense + upset + (5 - relaxed) + (5 - content) + worried


def test_stai6_constants():
    assert STAI6_ITEMS == ("calm", "tense", "upset", "relaxed", "content", "worried")
    assert frozenset({"calm", "relaxed", "content"}) == STAI6_REVERSED
    assert isinstance(STAI6_REVERSED, frozenset)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # All 1: calm, relaxed, content reverse to 4 each (12) + tense, upset, worried 1 each (3).
        ((1, 1, 1, 1, 1, 1), 15),
        # All 4: reversed items give 1 each (3) + the others 4 each (12).
        ((4, 4, 4, 4, 4, 4), 15),
        # Least anxious: very calm, relaxed, content; not tense, upset or worried.
        ((4, 1, 1, 4, 4, 1), 6),
        # Most anxious.
        ((1, 4, 4, 1, 1, 4), 24),
        ((2, 3, 1, 4, 2, 3), 3 + 3 + 1 + 1 + 3 + 3),
        ([2, 2, 2, 2, 2, 2], 15),
    ],
)
def test_stai6_by_hand(answers, expected):
    assert stai6_score(answers) == expected


@pytest.mark.parametrize("position", range(6))
def test_stai6_reversal_per_item(position):
    base = [2, 2, 2, 2, 2, 2]
    higher = list(base)
    higher[position] = 3
    step = stai6_score(higher) - stai6_score(base)
    if STAI6_ITEMS[position] in STAI6_REVERSED:
        assert step == -1
    else:
        assert step == 1


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ((1, 2, 3, 4, 1), "6 answers, got 5"),
        ((1, 2, 3, 4, 1, 2, 3), "6 answers, got 7"),
        ((), "6 answers, got 0"),
        ("123412", "sequence of 6 ints"),
        (b"\x01\x02\x03\x04\x01\x02", "sequence of 6 ints"),
        (None, "sequence of 6 ints"),
        (123412, "sequence of 6 ints"),
        ({"calm": 1}, "sequence of 6 ints"),
        ((x for x in range(1, 7)), "sequence of 6 ints"),
        ((0, 1, 1, 1, 1, 1), "calm must be 1-4, got 0"),
        ((1, 1, 1, 1, 1, 5), "worried must be 1-4, got 5"),
        ((1, -1, 1, 1, 1, 1), "tense must be 1-4"),
        ((1, 1, 2.0, 1, 1, 1), "upset must be an int"),
        ((1, 1, 1, "1", 1, 1), "relaxed must be an int"),
        ((1, 1, 1, 1, True, 1), "content must be an int"),
        ((1, 1, 1, 1, 1, None), "worried must be an int"),
    ],
)
def test_stai6_invalid_raises_value_error(answers, message):
    with pytest.raises(ValueError, match=message):
        stai6_score(answers)


@given(st.tuples(*[st.integers(min_value=1, max_value=4)] * 6))
def test_stai6_property_range_and_reference(answers):
    score = stai6_score(answers)
    assert isinstance(score, int)
    assert 6 <= score <= 24
    assert score == reference_stai6(answers)
    assert stai6_score(list(answers)) == score


# --- VAS ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, 50, 99, 100])
def test_validate_vas_accepts(value):
    assert validate_vas(value) == value


@pytest.mark.parametrize(
    "value", [-1, 101, 1000, 50.0, 50.5, "50", None, True, False, Decimal(50), [50]]
)
def test_validate_vas_rejects(value):
    with pytest.raises(ValueError, match="VAS"):
        validate_vas(value)


# --- Real change ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "before", "after", "expected"),
    [
        # EQ-5D index: at least 0.10. These pairs differ by 0.09999999999999998 as floats.
        ("eq5d_index", 0.516, 0.616, True),
        ("eq5d_index", 0.616, 0.516, True),
        ("eq5d_index", 1.0, 0.9, True),
        ("eq5d_index", 0.5, 0.6, True),
        ("eq5d_index", -0.594, -0.494, True),
        ("eq5d_index", 0.5, 0.599, False),
        ("eq5d_index", 0.599, 0.5, False),
        ("eq5d_index", 0.516, 0.615, False),
        ("eq5d_index", 0.848, 0.848, False),
        ("eq5d_index", 0.516, 1.0, True),
        ("eq5d_index", 1, 0.9, True),
        ("eq5d_index", Decimal("0.516"), Decimal("0.616"), True),
        # VAS: at least 10.
        ("eq5d_vas", 50, 60, True),
        ("eq5d_vas", 60, 50, True),
        ("eq5d_vas", 50, 59, False),
        ("eq5d_vas", 59, 50, False),
        ("eq5d_vas", 0, 100, True),
        ("eq5d_vas", 70, 70, False),
        # STAI-6: more than 2.
        ("stai6", 10, 12, False),
        ("stai6", 12, 10, False),
        ("stai6", 10, 13, True),
        ("stai6", 13, 10, True),
        ("stai6", 6, 24, True),
        ("stai6", 15, 15, False),
    ],
)
def test_real_change_boundaries(measure, before, after, expected):
    assert is_real_change(measure, before, after) is expected


@given(st.sampled_from(ALL_STATES), st.sampled_from(ALL_STATES))
def test_real_change_of_index_matches_exact_arithmetic(state_a, state_b):
    a, b = eq5d3l_index(state_a), eq5d3l_index(state_b)
    exact = abs(reference_index(state_a) - reference_index(state_b)) >= Fraction(1, 10)
    assert is_real_change("eq5d_index", a, b) is exact
    assert is_real_change("eq5d_index", b, a) is exact


@pytest.mark.parametrize(
    ("measure", "before", "after", "message"),
    [
        ("eq5d", 0.5, 0.6, "Unknown measure"),
        ("EQ5D_INDEX", 0.5, 0.6, "Unknown measure"),
        (None, 10, 12, "Unknown measure"),
        ("eq5d_index", 1.1, 0.5, "between"),
        ("eq5d_index", 0.5, -0.6, "between"),
        ("eq5d_index", 0.5, 1e30, "between"),
        ("eq5d_index", math.nan, 0.5, "finite"),
        ("eq5d_index", 0.5, math.inf, "finite"),
        ("eq5d_index", "0.5", 0.6, "must be a number"),
        ("eq5d_index", None, 0.6, "must be a number"),
        ("eq5d_index", True, 0.6, "must be a number"),
        ("eq5d_vas", 50, 101, "0-100"),
        ("eq5d_vas", -1, 50, "0-100"),
        ("eq5d_vas", 50.0, 60, "must be an int"),
        ("stai6", 5, 10, "6-24"),
        ("stai6", 10, 25, "6-24"),
        ("stai6", 10.0, 13, "must be an int"),
        ("stai6", None, 13, "must be an int"),
    ],
)
def test_real_change_invalid_raises_value_error(measure, before, after, message):
    with pytest.raises(ValueError, match=message):
        is_real_change(measure, before, after)


# --- Garbage in, only ValueError out --------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(),
    st.text(alphabet="0123456789", max_size=7),
    st.binary(),
    st.fractions(),
    st.complex_numbers(),
)
garbage = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=7),
        st.tuples(children, children, children, children, children),
        st.tuples(children, children, children, children, children, children),
        st.dictionaries(st.text(max_size=5), children, max_size=3),
        st.frozensets(st.integers(), max_size=6),
    ),
    max_leaves=12,
)


def _only_value_error(func, *args):
    with contextlib.suppress(ValueError):
        func(*args)


@given(garbage)
def test_eq5d_garbage_only_raises_value_error(value):
    _only_value_error(eq5d3l_index, value)


@given(garbage)
def test_stai6_garbage_only_raises_value_error(value):
    _only_value_error(stai6_score, value)


@given(garbage)
def test_vas_garbage_only_raises_value_error(value):
    _only_value_error(validate_vas, value)


@given(st.one_of(st.sampled_from(sorted(REAL_CHANGE)), garbage), garbage, garbage)
def test_real_change_garbage_only_raises_value_error(measure, before, after):
    _only_value_error(is_real_change, measure, before, after)


@given(st.sampled_from(sorted(REAL_CHANGE)), _scalars, _scalars)
def test_real_change_scalar_garbage_only_raises_value_error(measure, before, after):
    _only_value_error(is_real_change, measure, before, after)
