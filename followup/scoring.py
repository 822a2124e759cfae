"""Scoring of the follow-up instruments: EQ-5D-3L (UK TTO index, VAS) and STAI-6.

Pure Python with no Django imports, so models, forms and reports share one implementation.
"""

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

EQ5D3L_VALUE_SET = "UK TTO (Dolan 1997)"

EQ5D_DIMENSIONS = (
    "mobility",
    "self_care",
    "usual_activities",
    "pain_discomfort",
    "anxiety_depression",
)

# Dolan 1997 coefficients in thousandths, so the index is computed in integers and is exact.
_CONSTANT = 81  # applies when any dimension is above level 1
_N3 = 269  # applies when any dimension is at level 3
_DECREMENTS = {
    "mobility": {1: 0, 2: 69, 3: 314},
    "self_care": {1: 0, 2: 104, 3: 214},
    "usual_activities": {1: 0, 2: 36, 3: 94},
    "pain_discomfort": {1: 0, 2: 123, 3: 386},
    "anxiety_depression": {1: 0, 2: 71, 3: 236},
}

STAI6_ITEMS = ("calm", "tense", "upset", "relaxed", "content", "worried")
STAI6_REVERSED = frozenset({"calm", "relaxed", "content"})

REAL_CHANGE = {"eq5d_index": 0.10, "eq5d_vas": 10, "stai6": 2}

_EQ5D_INDEX_MIN = Decimal("-0.594")
_EQ5D_INDEX_MAX = Decimal("1.000")
_THOUSANDTH = Decimal("0.001")


def _is_int(value):
    # bool is a subclass of int, but True/False is never a valid answer.
    return isinstance(value, int) and not isinstance(value, bool)


def _eq5d_levels(profile):
    """Return the five levels of a profile given as a string or a sequence of ints."""
    if isinstance(profile, str):
        if len(profile) != 5:
            raise ValueError(
                f"EQ-5D-3L profile must have 5 digits, got {len(profile)}: {profile!r}"
            )
        levels = []
        for dimension, char in zip(EQ5D_DIMENSIONS, profile, strict=True):
            # isdigit() alone would accept other scripts' digits such as '２'.
            if not (char.isascii() and char.isdigit()):
                raise ValueError(
                    f"EQ-5D-3L profile must contain only the digits 1-3, "
                    f"got {char!r} for {dimension} in {profile!r}"
                )
            levels.append(int(char))
    elif isinstance(profile, Sequence) and not isinstance(profile, bytes | bytearray):
        if len(profile) != 5:
            raise ValueError(
                f"EQ-5D-3L profile must have 5 levels, got {len(profile)}: {profile!r}"
            )
        levels = list(profile)
        for dimension, level in zip(EQ5D_DIMENSIONS, levels, strict=True):
            if not _is_int(level):
                raise ValueError(
                    f"EQ-5D-3L level for {dimension} must be an int, "
                    f"got {type(level).__name__}: {level!r}"
                )
    else:
        raise ValueError(
            f"EQ-5D-3L profile must be a 5-digit string or a sequence of 5 ints, "
            f"got {type(profile).__name__}: {profile!r}"
        )
    for dimension, level in zip(EQ5D_DIMENSIONS, levels, strict=True):
        if not 1 <= level <= 3:
            raise ValueError(
                f"EQ-5D-3L level for {dimension} must be 1, 2 or 3, got {level} in {profile!r}"
            )
    return levels


def eq5d3l_index(profile) -> float:
    """Return the EQ-5D-3L index of a profile by the UK TTO value set, rounded to 3 decimals.

    The profile is a string such as "21232" or a sequence of five ints, in the order of
    EQ5D_DIMENSIONS, each at level 1, 2 or 3. Invalid input raises ValueError.
    """
    levels = _eq5d_levels(profile)
    thousandths = 1000
    if any(level > 1 for level in levels):
        thousandths -= _CONSTANT
    thousandths -= sum(
        _DECREMENTS[dimension][level]
        for dimension, level in zip(EQ5D_DIMENSIONS, levels, strict=True)
    )
    if any(level == 3 for level in levels):
        thousandths -= _N3
    return float(Decimal(thousandths) / 1000)


def stai6_score(answers) -> int:
    """Return the STAI-6 sum (6-24) of six answers 1-4 in the order of STAI6_ITEMS.

    Calm, relaxed and content are reversed (5 - answer). Invalid input raises ValueError.
    """
    if isinstance(answers, str | bytes | bytearray) or not isinstance(answers, Sequence):
        raise ValueError(
            f"STAI-6 answers must be a sequence of 6 ints, "
            f"got {type(answers).__name__}: {answers!r}"
        )
    if len(answers) != 6:
        raise ValueError(f"STAI-6 must have 6 answers, got {len(answers)}: {answers!r}")
    total = 0
    for item, answer in zip(STAI6_ITEMS, answers, strict=True):
        if not _is_int(answer):
            raise ValueError(
                f"STAI-6 answer for {item} must be an int, got {type(answer).__name__}: {answer!r}"
            )
        if not 1 <= answer <= 4:
            raise ValueError(f"STAI-6 answer for {item} must be 1-4, got {answer}")
        total += 5 - answer if item in STAI6_REVERSED else answer
    return total


def validate_vas(value) -> int:
    """Return an EQ-5D VAS value if it is an int 0-100, else raise ValueError."""
    if not _is_int(value):
        raise ValueError(f"EQ-5D VAS must be an int 0-100, got {type(value).__name__}: {value!r}")
    if not 0 <= value <= 100:
        raise ValueError(f"EQ-5D VAS must be 0-100, got {value}")
    return value


def _eq5d_index_decimal(value, which):
    # Via str() and quantize so 0.516 -> 0.616 is a difference of exactly 0.100,
    # not the float 0.09999999999999998.
    if not isinstance(value, int | float | Decimal) or isinstance(value, bool):
        raise ValueError(
            f"EQ-5D index ({which}) must be a number, got {type(value).__name__}: {value!r}"
        )
    result = Decimal(str(value))
    if not result.is_finite():
        raise ValueError(f"EQ-5D index ({which}) must be a finite number, got {value!r}")
    # Quantizing a huge value would overflow the decimal context, so bound it first.
    rounded = result.quantize(_THOUSANDTH, ROUND_HALF_UP) if abs(result) <= 2 else result
    if not _EQ5D_INDEX_MIN <= rounded <= _EQ5D_INDEX_MAX:
        raise ValueError(
            f"EQ-5D index ({which}) must be between {_EQ5D_INDEX_MIN} and {_EQ5D_INDEX_MAX}, "
            f"got {value!r}"
        )
    return rounded


def _vas_checked(value, which):
    try:
        return validate_vas(value)
    except ValueError as error:
        raise ValueError(f"{error} ({which})") from None


def _stai6_total(value, which):
    if not _is_int(value):
        raise ValueError(
            f"STAI-6 score ({which}) must be an int, got {type(value).__name__}: {value!r}"
        )
    if not 6 <= value <= 24:
        raise ValueError(f"STAI-6 score ({which}) must be 6-24, got {value}")
    return value


def is_real_change(measure: str, before, after) -> bool:
    """Return whether the change from before to after is a real change on a measure.

    measure is a key of REAL_CHANGE. A real change is an EQ-5D index difference of at least
    0.10, a VAS difference of at least 10, or a STAI-6 difference of more than 2, either way.
    """
    if measure == "eq5d_index":
        diff = _eq5d_index_decimal(after, "after") - _eq5d_index_decimal(before, "before")
        return abs(diff) >= Decimal(str(REAL_CHANGE["eq5d_index"]))
    if measure == "eq5d_vas":
        diff = _vas_checked(after, "after") - _vas_checked(before, "before")
        return abs(diff) >= REAL_CHANGE["eq5d_vas"]
    if measure == "stai6":
        diff = _stai6_total(after, "after") - _stai6_total(before, "before")
        return abs(diff) > REAL_CHANGE["stai6"]
    raise ValueError(
        f"Unknown measure {measure!r}; expected one of {', '.join(sorted(REAL_CHANGE))}"
    )
