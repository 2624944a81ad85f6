"""Distribution fields with a range: durations, shares, positive factors, counts.

A field declared as ``Duration`` accepts any distribution whose values can never be negative, and
a normal distribution without a lower bound is truncated at 0 rather than rejected, because that
is what a person writing ``{ dist = "normal", mean = 5, sd = 3 }`` for a duration means. A range
with an upper end (a head count) cuts a normal without ``high`` off there too.

A duration, an amount or a factor also has a largest mean (``MAX_MEAN_DAYS`` and the like): a
buyer task of a thousand years is a slip of the unit, and a distribution that wide draws values
that overflow a float.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from simsales.scenario.distributions import Distribution, Normal, _number_is_constant

#: The largest mean of a duration: 100 years, a run's longest horizon.
MAX_MEAN_DAYS = 36_525.0
#: The largest mean of an amount of money (a thousand billion in any currency).
MAX_MEAN_MONEY = 1e15
#: The largest mean of a factor (a deal's pace, an expansion's value as a multiple).
MAX_MEAN_FACTOR = 1_000.0


def _mean(dist: Any) -> float:
    """The distribution's mean, infinite if it overflows (a lognormal with a huge spread)."""
    try:
        return float(dist.mean)
    except OverflowError:
        return math.inf


def _within(
    lo: float, hi: float, what: str, *, open_low: bool = False, max_mean: float = math.inf
) -> Callable[[Any], Any]:
    def check(dist: Any) -> Any:
        if isinstance(dist, Normal):
            cut = {"low": lo} if dist.low is None and math.isfinite(lo) else {}
            cut |= {"high": hi} if dist.high is None and math.isfinite(hi) else {}
            if cut:  # revalidated: the window must still keep enough of the bell
                dist = Normal.model_validate(dist.model_dump(by_alias=True) | cut)
        s_lo, s_hi = dist.support
        too_low = s_lo < lo or (open_low and s_lo == lo and not dist.low_is_open)
        if too_low or s_hi > hi:
            bound = f"above {lo:g}" if open_low else f"at least {lo:g}"
            rule = bound if math.isinf(hi) else f"between {lo:g} and {hi:g}"
            raise ValueError(
                f"{what} must be {rule}, but this distribution can give values from "
                f"{s_lo:g} to {s_hi:g}"
            )
        mean = _mean(dist)
        if not mean <= max_mean:
            raise ValueError(
                f"{what} must have a mean of at most {max_mean:,g}, but this distribution's mean "
                f"is {mean:,g}"
            )
        return dist

    return check


Duration = Annotated[
    Distribution,
    BeforeValidator(_number_is_constant),
    AfterValidator(_within(0.0, math.inf, "a duration (days)", max_mean=MAX_MEAN_DAYS)),
]
"""A span of time in days: never negative, on average at most 36,525 (100 years)."""

Money = Annotated[
    Distribution,
    BeforeValidator(_number_is_constant),
    AfterValidator(_within(0.0, math.inf, "an amount of money", max_mean=MAX_MEAN_MONEY)),
]
"""An amount in the scenario's currency: never negative, on average at most 1e15."""

Share = Annotated[
    Distribution,
    BeforeValidator(_number_is_constant),
    AfterValidator(_within(0.0, 1.0, "a share or probability")),
]
"""A value between 0 and 1 (fit, skill, discount)."""

Factor = Annotated[
    Distribution,
    BeforeValidator(_number_is_constant),
    AfterValidator(_within(0.0, math.inf, "a factor", open_low=True, max_mean=MAX_MEAN_FACTOR)),
]
"""A strictly positive multiplier (a deal's pace), on average at most 1,000."""

#: The largest buying group: a thousand stakeholders is already not a buying group, and the deal
#: table stores the group's size in 16 bits (an expansion's group may be up to 10 times larger).
MAX_GROUP_SIZE = 1_000.0

Count = Annotated[
    Distribution,
    BeforeValidator(_number_is_constant),
    AfterValidator(_within(1.0, MAX_GROUP_SIZE, "a head count")),
]
"""A number of people, 1 to 1,000 (rounded to the nearest whole number when drawn)."""
