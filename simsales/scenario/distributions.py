"""Random quantities as they are written in a scenario file.

Each distribution is a small frozen object that knows its mean and its support, and can be sampled
two ways: ``draw(r)`` takes one value from a stdlib ``random.Random``, or anything with its methods
(cheap scalar draws inside the simulation's hot loop) and ``sample(rng, size)`` takes a vector from
a ``numpy.random.Generator`` (batches, tests). Both follow the same law; the tests check them
against each other and the mean.

In a file a distribution is an inline table keyed by ``dist``::

    duration = { dist = "lognormal", median = 5, p90 = 12 }

and a bare number means a constant. The scenario layer holds data only: the random generators are
always passed in by the model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import Annotated, Any, ClassVar, Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


class RandomSource(Protocol):
    """What a scalar draw needs: ``random.Random`` has it, so has the model's per-deal source."""

    def random(self) -> float: ...
    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float: ...
    def expovariate(self, lambd: float) -> float: ...
    def triangular(
        self, low: float = 0.0, high: float = 1.0, mode: float | None = None
    ) -> float: ...
    def gammavariate(self, alpha: float, beta: float) -> float: ...
    def betavariate(self, alpha: float, beta: float) -> float: ...
    def choices(
        self, population: Sequence[float], weights: Sequence[float] | None = None, *, k: int = 1
    ) -> list[float]: ...


#: Draws one value from a source of random numbers.
Sampler = Callable[[RandomSource], float]

#: z-score of the 90th percentile of the standard normal: p90 = median * exp(sigma * Z90).
Z90 = NormalDist().inv_cdf(0.9)
_STD_NORMAL = NormalDist()


class _Dist(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    @property
    def mean(self) -> float:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    @property
    def support(self) -> tuple[float, float]:  # pragma: no cover - every subclass overrides
        """Smallest and largest value the distribution can produce."""
        raise NotImplementedError

    #: True when the support's lower end is never drawn (exponential, lognormal, gamma, beta).
    low_is_open: ClassVar[bool] = False

    def draw(self, r: RandomSource) -> float:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def sampler(self) -> Sampler:
        """A function drawing one value from ``r``, with the parameters worked out once.

        ``draw`` reads the fields (and derived values) on every call, which pydantic makes slow;
        the simulation's hot loop calls the sampler instead. Same law, same stream use as draw.
        """
        return self.draw

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class Constant(_Dist):
    """Always the same value."""

    dist: Literal["constant"] = "constant"
    value: float

    @property
    def mean(self) -> float:
        return self.value

    @property
    def support(self) -> tuple[float, float]:
        return (self.value, self.value)

    def draw(self, r: RandomSource) -> float:
        return self.value

    def sampler(self) -> Sampler:
        value = self.value
        return lambda r: value

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value, dtype=float)


class Exponential(_Dist):
    """Memoryless waiting time with the given mean."""

    low_is_open: ClassVar[bool] = True

    dist: Literal["exponential"] = "exponential"
    mean_: float = Field(alias="mean", gt=0)

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, strict=True, allow_inf_nan=False
    )

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def draw(self, r: RandomSource) -> float:
        return r.expovariate(1.0 / self.mean_)

    def sampler(self) -> Sampler:
        rate = 1.0 / self.mean_
        return lambda r: r.expovariate(rate)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_, size)


class Uniform(_Dist):
    """Any value between low and high, equally likely."""

    dist: Literal["uniform"] = "uniform"
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def draw(self, r: RandomSource) -> float:
        return self.low + (self.high - self.low) * r.random()

    def sampler(self) -> Sampler:
        low, width = self.low, self.high - self.low
        return lambda r: low + width * r.random()

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)


class Triangular(_Dist):
    """Lowest, most likely and highest value: the three-point estimate people give."""

    dist: Literal["triangular"] = "triangular"
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                f"need low <= mode <= high and low < high, got "
                f"low={self.low}, mode={self.mode}, high={self.high}"
            )
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def draw(self, r: RandomSource) -> float:
        return r.triangular(self.low, self.high, self.mode)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, size)


class Normal(_Dist):
    """Bell curve, optionally truncated to [low, high] (durations are truncated at 0).

    Truncation is by rejection, so the truncated law is exact; the window must keep at least 1%
    of the mass, or the file is rejected rather than the run slowing to a crawl.
    """

    dist: Literal["normal"] = "normal"
    mean_: float = Field(alias="mean")
    sd: float = Field(gt=0)
    low: float | None = None
    high: float | None = None

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, strict=True, allow_inf_nan=False
    )

    @model_validator(mode="after")
    def _window(self) -> Normal:
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        if not lo < hi:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self._mass() < 0.01:
            raise ValueError(
                f"the window [{self.low}, {self.high}] keeps less than 1% of a normal with "
                f"mean {self.mean_} and sd {self.sd}"
            )
        return self

    def _bounds(self) -> tuple[float, float]:
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        return lo, hi

    def _mass(self) -> float:
        lo, hi = self._bounds()
        d = NormalDist(self.mean_, self.sd)
        return (1.0 if hi == math.inf else d.cdf(hi)) - (0.0 if lo == -math.inf else d.cdf(lo))

    @property
    def mean(self) -> float:
        lo, hi = self._bounds()
        a = (lo - self.mean_) / self.sd
        b = (hi - self.mean_) / self.sd
        pdf_a = 0.0 if a == -math.inf else _STD_NORMAL.pdf(a)
        pdf_b = 0.0 if b == math.inf else _STD_NORMAL.pdf(b)
        return self.mean_ + self.sd * (pdf_a - pdf_b) / self._mass()

    @property
    def support(self) -> tuple[float, float]:
        return self._bounds()

    def draw(self, r: RandomSource) -> float:
        return self.sampler()(r)

    def sampler(self) -> Sampler:
        lo, hi = self._bounds()
        mean, sd = self.mean_, self.sd

        def truncated(r: RandomSource) -> float:
            while True:
                x = r.gauss(mean, sd)
                if lo <= x <= hi:
                    return x

        return truncated

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        lo, hi = self._bounds()
        out = rng.normal(self.mean_, self.sd, size)
        bad = (out < lo) | (out > hi)
        while bad.any():
            out[bad] = rng.normal(self.mean_, self.sd, int(bad.sum()))
            bad = (out < lo) | (out > hi)
        return out


class LogNormal(_Dist):
    """Right-skewed positive quantity given by its median and 90th percentile.

    "Usually about 5 days, 1 time in 10 more than 12" is how people describe durations.
    """

    low_is_open: ClassVar[bool] = True

    dist: Literal["lognormal"] = "lognormal"
    median: float = Field(gt=0)
    p90: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> LogNormal:
        if not self.p90 > self.median:
            raise ValueError(f"p90 ({self.p90}) must be above the median ({self.median})")
        return self

    @property
    def mu(self) -> float:
        return math.log(self.median)

    @property
    def sigma(self) -> float:
        return math.log(self.p90 / self.median) / Z90

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)

    @property
    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def draw(self, r: RandomSource) -> float:
        return math.exp(r.gauss(self.mu, self.sigma))

    def sampler(self) -> Sampler:
        mu, sigma, exp = self.mu, self.sigma, math.exp
        return lambda r: exp(r.gauss(mu, sigma))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, size)


class Gamma(_Dist):
    """Positive quantity with a given mean and shape (shape 1 is exponential; larger is tighter)."""

    low_is_open: ClassVar[bool] = True

    dist: Literal["gamma"] = "gamma"
    mean_: float = Field(alias="mean", gt=0)
    shape: float = Field(gt=0)

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, strict=True, allow_inf_nan=False
    )

    @model_validator(mode="after")
    def _drawable(self) -> Gamma:
        scale = self.mean_ / self.shape
        if not 0 < scale < math.inf:
            raise ValueError(
                f"mean ÷ shape (the scale, {scale:g}) must be a positive finite number: "
                f"mean {self.mean_:g} and shape {self.shape:g} are too far apart to draw from"
            )
        return self

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def draw(self, r: RandomSource) -> float:
        return r.gammavariate(self.shape, self.mean_ / self.shape)

    def sampler(self) -> Sampler:
        shape, scale = self.shape, self.mean_ / self.shape
        return lambda r: r.gammavariate(shape, scale)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.gamma(self.shape, self.mean_ / self.shape, size)


class Beta(_Dist):
    """A share between 0 and 1 given by its mean and concentration (a + b; larger is tighter)."""

    low_is_open: ClassVar[bool] = True

    dist: Literal["beta"] = "beta"
    mean_: float = Field(alias="mean", gt=0, lt=1)
    concentration: float = Field(gt=0)

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, strict=True, allow_inf_nan=False
    )

    @model_validator(mode="after")
    def _drawable(self) -> Beta:
        if not (0 < self.a < math.inf and 0 < self.b < math.inf):
            raise ValueError(
                f"mean × concentration ({self.a:g}) and (1 − mean) × concentration ({self.b:g}) "
                "must be positive finite numbers: the concentration is too small (or too large) "
                "to draw from"
            )
        return self

    @property
    def a(self) -> float:
        return self.mean_ * self.concentration

    @property
    def b(self) -> float:
        return (1 - self.mean_) * self.concentration

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def support(self) -> tuple[float, float]:
        return (0.0, 1.0)

    def draw(self, r: RandomSource) -> float:
        return r.betavariate(self.a, self.b)

    def sampler(self) -> Sampler:
        a, b = self.a, self.b
        return lambda r: r.betavariate(a, b)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.beta(self.a, self.b, size)


class Empirical(_Dist):
    """One of the listed values (for example observed ones), optionally with weights."""

    dist: Literal["empirical"] = "empirical"
    values: list[float] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but values has {len(self.values)}"
                )
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be non-negative and not all zero")
        return self

    def _probabilities(self) -> list[float]:
        if self.weights is None:
            return [1 / len(self.values)] * len(self.values)
        total = sum(self.weights)
        return [w / total for w in self.weights]

    @property
    def mean(self) -> float:
        return sum(v * p for v, p in zip(self.values, self._probabilities(), strict=True))

    @property
    def support(self) -> tuple[float, float]:
        return (min(self.values), max(self.values))

    def draw(self, r: RandomSource) -> float:
        if self.weights is None:
            return self.values[int(r.random() * len(self.values))]
        return r.choices(self.values, self.weights)[0]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, float), size, p=self._probabilities())


def _number_is_constant(value: Any) -> Any:
    """A bare number in the file means a constant."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"dist": "constant", "value": value}
    return value


Distribution = Annotated[
    Constant | Exponential | Uniform | Triangular | Normal | LogNormal | Gamma | Beta | Empirical,
    Field(discriminator="dist"),
]
"""Any distribution, chosen by its ``dist`` key."""

DIST_NAMES = (
    "constant",
    "exponential",
    "uniform",
    "triangular",
    "normal",
    "lognormal",
    "gamma",
    "beta",
    "empirical",
)
