"""Shares shown as whole percent: rounded half up (0.3367 is 34 %, 0.875 is 88 %), never cut;
and where a table's shares make a whole, shown so that they add up to 100 % (the largest
remainder method). Exports keep the full precision."""

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal


class Percent(int):
    """A share already rounded to whole percent for showing."""


def _hundredths(share) -> Decimal:
    return Decimal(str(share)) * 100


def percent(share) -> Percent:
    """A share (0–1) in whole percent, rounded half up."""
    return Percent(_hundredths(share).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def largest_remainder(shares: Sequence) -> list[Percent]:
    """Shares that make a whole (they sum to 1), in whole percent adding up to exactly 100:
    each is cut to whole percent, then the ones with the largest remainders get one more
    until the total is 100. Shares that do not sum to 1 (within rounding) are each rounded
    half up instead, since there is no whole to keep."""
    exact = [_hundredths(share) for share in shares]
    if not exact or abs(sum(exact) - 100) > Decimal("0.01"):
        return [percent(share) for share in shares]
    floors = [value.quantize(Decimal(1), rounding=ROUND_FLOOR) for value in exact]
    missing = int(100 - sum(floors))
    by_remainder = sorted(range(len(exact)), key=lambda i: (floors[i] - exact[i], i))
    for i in by_remainder[:missing]:
        floors[i] += 1
    return [Percent(value) for value in floors]
