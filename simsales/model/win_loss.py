"""Win/loss interviews (``[win_loss]``): what a lost or no-decision buyer says, and why.

The model knows each deal's real end cause (``END_CAUSES``). An interview asks the buyer; it hears
the real cause with the chance ``find_real_reason`` and otherwise the usual excuse: "price" for a
lost deal, "timing, not a priority" for a no decision. Comparing the two is the point of the
analysis: the excuse hides a cause the seller could have changed.

The draws come from their own stream (``win_loss``, appended last), two uniforms per lost or
no-decision deal as it is recorded, so turning interviews on changes no other draw.
"""

from __future__ import annotations

import numpy as np

from simsales.model.records import (
    LOST,
    NO_DECISION,
    NOT_INTERVIEWED,
    PRICE_EXCUSE,
    TIMING_EXCUSE,
)
from simsales.scenario.schema import WinLoss


class Interviews:
    """Decides, deal by deal, whether the buyer is interviewed and what the interview hears."""

    __slots__ = ("_find", "_rng", "_share")

    def __init__(self, settings: WinLoss, rng: np.random.Generator) -> None:
        self._share = settings.interview_share
        self._find = settings.find_real_reason
        self._rng = rng

    def stated(self, outcome: int, end_cause: int) -> int:
        """The ``stated_cause`` code of a deal that ended with ``outcome`` for ``end_cause``.

        Real causes share their code between ``END_CAUSES`` and ``STATED_CAUSES``.
        """
        if outcome != LOST and outcome != NO_DECISION:
            return NOT_INTERVIEWED
        asked, honest = self._rng.random(2)
        if asked >= self._share:
            return NOT_INTERVIEWED
        if honest < self._find:
            return end_cause
        return PRICE_EXCUSE if outcome == LOST else TIMING_EXCUSE
