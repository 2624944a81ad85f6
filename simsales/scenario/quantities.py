"""Distribution fields with a range: durations, shares, positive factors, counts.

A field declared as ``Duration`` accepts any distribution whose values can never be negative, and
a normal distribution without a lower bound is truncated at 0 rather than rejected, because that
is what a person writing ``{ dist = "normal", mean = 5, sd = 3 }`` for a duration means.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from simsales.scenario.distributions import Distribution, Normal, _number_is_constant


def _within(lo: float, hi: float, what: str, *, open_low: bool = False) -> Callable[[Any], Any]:
    def check(dist: Any) -> Any:
        if isinstance(dist, Normal) and dist.low is None and math.isfinite(lo):
            # revalidated: the window must still keep enough of the bell
            dist = Normal.model_validate(dist.model_dump(by_alias=True) | {"low": lo})
        s_lo, s_hi = dist.support
        too_low = s_lo < lo or (open_low and s_lo == lo and not dist.low_is_open)
        if too_low or s_hi > hi:
            bound = f"above {lo:g}" if open_low else f"at least {lo:g}"
            rule = bound if math.isinf(hi) else f"between {lo:g} and {hi:g}"
            raise ValueError(
                f"{what} must be {rule}, but this distribution can give values from "
                f"{s_lo:g} to {s_hi:g}"
            )
        return dist

    return check


Duration = Annotated[
    Distribution,
    BeforeValidator(_number_is_constant),
    AfterValidator(_within(0.0, math.inf, "a duration (days)")),
]
"""A span of time in days: never negative."""

Money = Annotated[
    Distribution,
    BeforeValidator(_number_is_constant),
    AfterValidator(_within(0.0, math.inf, "an amount of money")),
]
"""An amount in the scenario's currency: never negative."""

Share = Annotated[
    Distribution,
    BeforeValidator(_number_is_constant),
    AfterValidator(_within(0.0, 1.0, "a share or probability")),
]
"""A value between 0 and 1 (fit, skill, discount)."""

Factor = Annotated[
    Distribution,
    BeforeValidator(_number_is_constant),
    AfterValidator(_within(0.0, math.inf, "a factor", open_low=True)),
]
"""A strictly positive multiplier (a deal's pace)."""

Count = Annotated[
    Distribution,
    BeforeValidator(_number_is_constant),
    AfterValidator(_within(1.0, math.inf, "a head count")),
]
"""A number of people, at least 1 (rounded to the nearest whole number when drawn)."""
