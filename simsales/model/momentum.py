"""The buyer's momentum between contacts, and the deal going dark as a competing risk.

After a contact at t0 leaving momentum m0, momentum decays as m(t) = m0 * 2^(-(t - t0)/h). The
hazard of going dark is lambda(t) = base + lam * (1 - m(t))^k: close to the small background
``base`` (the buyer's world moving on, whatever we do) right after a good call, close to ``base +
lam`` after weeks of silence. Each deal draws one budget E ~ Exp(1) when it is created and goes dark
at the moment its cumulative hazard reaches E. The cumulative hazard has a closed form (binomial
expansion of (1 - m0 e^{-ct})^k), and because lambda grows within a segment the cumulative hazard is
convex, so Newton's method started at the segment's end converges monotonically to the dark time.
Nothing is polled: a gap costs a few arithmetic operations, however long it is.

A gap is split into segments where the decay rate or momentum changes: the end of the buyer's own
task (decay is slower while the buyer is busy) and touches (each closes a share of the gap to 1).
"""

from __future__ import annotations

import math

LN2 = math.log(2.0)


def cumulative_hazard(
    m0: float, tau: float, c: float, lam: float, k: int, base: float = 0.0
) -> float:
    """Integral of base + lam * (1 - m0 e^{-c t})^k over [0, tau] (c = ln 2 / half-life, per day).

    ``base`` is the background hazard that no contact removes (the buyer's world moves on).
    """
    total = tau
    coef = 1.0
    for j in range(1, k + 1):
        coef *= -m0 * (k - j + 1) / j
        total -= coef * math.expm1(-j * c * tau) / (j * c)
    return lam * total + base * tau


def hazard(m0: float, t: float, c: float, lam: float, k: int, base: float = 0.0) -> float:
    """The hazard of going dark, per day, t days into a segment that started at momentum m0."""
    return base + lam * (1.0 - m0 * math.exp(-c * t)) ** k


def time_to_budget(
    m0: float, tau: float, c: float, lam: float, k: int, budget: float, base: float = 0.0
) -> float:
    """Solve cumulative_hazard(t) = budget for t in [0, tau], given it is reached by tau.

    Newton from the right end: the function is increasing and convex, so each step stays to the
    right of the root and the iteration cannot overshoot.
    """
    t = tau
    for _ in range(60):
        excess = cumulative_hazard(m0, t, c, lam, k, base) - budget
        rate = hazard(m0, t, c, lam, k, base)
        if rate <= 0.0:
            return t
        step = excess / rate
        t -= step
        if t <= 0.0:
            return 0.0
        if step < 1e-10:
            break
    return t


class BuyerClock:
    """One buyer's momentum and its two competing risks, advanced piecewise along the deal's time.

    ``clock`` is the time up to which the hazards have been integrated; ``momentum`` is the
    momentum at ``clock``; ``budget`` the cumulative dark hazard still to go before the deal goes
    dark, ``loss_budget`` the cumulative competition hazard before the buyer commits elsewhere.
    The competition hazard is constant between the deal's changes of stage (``loss_rate``, per
    day, set by the deal). After ``stale_at`` (the buyer's own decision date, passed undecided)
    momentum fades faster (``stale_half_life``, a factor on the half-life) and alternatives look
    better (``stale_loss``, a factor on the competition hazard). The hazard and touch parameters
    are fixed for the deal.
    """

    __slots__ = (
        "base",
        "budget",
        "busy_factor",
        "busy_until",
        "clock",
        "k",
        "lam",
        "last_contact",
        "loss_budget",
        "loss_rate",
        "lost",
        "momentum",
        "stale_at",
        "stale_half_life",
        "stale_loss",
        "touch_boost",
        "touch_every",
        "touch_times",
        "until",
    )

    def __init__(
        self,
        start: float,
        momentum: float,
        budget: float,
        *,
        busy_factor: float = 1.0,
        touch_every: float = 0.0,
        touch_boost: float = 0.0,
        lam: float = 0.0,
        k: int = 1,
        base: float = 0.0,
        loss_budget: float = math.inf,
        stale_half_life: float = 1.0,
        stale_loss: float = 1.0,
        until: float = math.inf,
    ) -> None:
        self.clock = start
        #: The clock stops here (a run's calendar's last day, past the horizon): a gap to a
        #: call after it is not integrated further, so a far-off target sends no endless touches.
        self.until = until
        self.momentum = momentum
        self.budget = budget
        self.last_contact = start
        self.busy_until = start
        self.touch_times: list[float] = []
        self.busy_factor = busy_factor
        self.touch_every = touch_every
        self.touch_boost = touch_boost
        self.lam = lam
        self.k = k
        self.base = base
        self.loss_budget = loss_budget
        self.loss_rate = 0.0  # per day; 0 until the opportunity opens
        self.lost = False  # True once the competition hazard, not going dark, ended the deal
        self.stale_at = math.inf
        self.stale_half_life = stale_half_life
        self.stale_loss = stale_loss

    def contact(self, t: float, restore: float) -> None:
        """A call at t (the clock must already stand at t): momentum moves ``restore`` towards 1."""
        self.momentum += (1.0 - self.momentum) * restore
        self.last_contact = t

    def advance(self, target: float, half_life: float) -> float:
        """Integrate from ``clock`` to ``target``; return when the deal ended, or -1.0 if alive.

        The deal ends at the first of the two risks to spend its budget: going dark, or (``lost``
        set) the buyer committing elsewhere. ``half_life`` (days) is the stage's, lengthened by
        ``busy_factor`` while the buyer is busy (until ``busy_until``). Touches fall every
        ``touch_every`` days after the last contact (a call or a touch; 0 means never) and are
        appended to ``touch_times``. A target beyond ``until`` stops the clock at ``until``.
        """
        if not target <= self.until:  # NaN too
            target = self.until
        busy_factor = self.busy_factor
        touch_every = self.touch_every
        touch_boost = self.touch_boost
        lam = self.lam
        k = self.k
        base = self.base
        t = self.clock
        m = self.momentum
        budget = self.budget
        busy_until = self.busy_until
        loss_rate = self.loss_rate
        stale_at = self.stale_at
        next_touch = self.last_contact + touch_every if touch_every > 0.0 else math.inf
        if next_touch <= t:
            # due exactly now: the previous advance ended at this touch's time without a call
            m += (1.0 - m) * touch_boost
            self.touch_times.append(t)
            self.last_contact = t
            next_touch = t + touch_every
        hazardous = lam > 0.0 or base > 0.0
        c_free = LN2 / half_life
        c_busy = LN2 / (half_life * busy_factor)
        expm1 = math.expm1
        while t < target:
            end = target
            touching = False
            if next_touch < end:
                end = next_touch
                touching = True
            busy = t < busy_until
            if busy and busy_until < end:
                end = busy_until
                touching = False
            stale = t >= stale_at
            if not stale and stale_at < end:
                end = stale_at
                touching = False
            c = c_busy if busy else c_free
            rate = loss_rate
            if stale:
                c /= self.stale_half_life
                rate *= self.stale_loss
            tau = end - t
            lost_at = math.inf
            if rate > 0.0:
                exposure = rate * tau
                if exposure >= self.loss_budget:
                    lost_at = t + self.loss_budget / rate
            if hazardous:
                # cumulative_hazard(m, tau, c, lam, k, base), inlined with the same operations
                total = tau
                coef = 1.0
                for j in range(1, k + 1):
                    coef *= -m * (k - j + 1) / j
                    total -= coef * expm1(-j * c * tau) / (j * c)
                spent = lam * total + base * tau
                if spent >= budget:
                    dark = t + time_to_budget(m, tau, c, lam, k, budget, base)
                    if dark <= lost_at:
                        self.momentum = m * math.exp(-c * (dark - t))
                        self.clock = dark
                        self.budget = 0.0
                        return dark
                budget -= spent
            if lost_at < math.inf:
                self.momentum = m * math.exp(-c * (lost_at - t))
                self.clock = lost_at
                self.loss_budget = 0.0
                self.lost = True
                return lost_at
            if rate > 0.0:
                self.loss_budget -= rate * tau
            m *= math.exp(-c * tau)
            t = end
            if touching:
                m += (1.0 - m) * touch_boost
                self.touch_times.append(t)
                self.last_contact = t
                next_touch = t + touch_every
        self.clock = t
        self.momentum = m
        self.budget = budget
        return -1.0
