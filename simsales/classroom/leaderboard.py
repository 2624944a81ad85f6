"""The leaderboard: each team's score, its paired difference from the base, and rank groups.

Every team and the base ran the same replications on the same seed, so replication r of two
teams saw the same suspects and dice: a team's score minus another's, replication by
replication, is a paired difference whose interval is narrow enough to tell teams apart in a
class-sized run. Where it cannot, the leaderboard says so instead of pretending an order.

**Rank groups.** Teams (and the base) are sorted by mean score. The first opens rank group 1.
Each next one joins the group above when its paired difference from that group's leader (the
group's best) has a 95% interval that includes 0: it cannot be told apart from the leader.
Otherwise it opens a new group. A group's rank is its leader's position (1, 1, 3: two teams
share first place, the third is told apart from both). ``tied_with`` lists, for each, every
other entry it cannot be told apart from, pair by pair: a team at the edge of two groups can be
tied with members of both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simsales.analysis import PairedDifference, paired_difference
from simsales.classroom.spec import Score
from simsales.results import MetricSummary, ci_t

__all__ = ["Standing", "score_values", "standings"]


def score_values(per_rep: Sequence[Mapping[str, float]], score: Score) -> list[float]:
    """The score of each replication: Σ weight × metric (NaN where a metric is undefined)."""
    nan = math.nan
    return [
        math.fsum(term.weight * rep.get(term.metric, nan) for term in score.terms)
        for rep in per_rep
    ]


@dataclass(frozen=True, kw_only=True)
class Standing:
    """One row of the leaderboard: a team (or the base), its score over the replications, its
    paired difference from the base (None for the base), its rank and who it ties with."""

    name: str
    label: str
    score: MetricSummary
    vs_base: PairedDifference | None
    rank: int
    leader: str
    tied_with: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "score": self.score.to_dict(),
            "vs_base": None if self.vs_base is None else self.vs_base.to_dict(),
            "rank": self.rank,
            "rank_group_leader": self.leader,
            "tied_with": list(self.tied_with),
        }


def standings(
    scores: Mapping[str, Sequence[float]],
    labels: Mapping[str, str],
    *,
    base: str,
    level: float = 0.95,
) -> list[Standing]:
    """The leaderboard of ``scores`` (per entry, one score per replication, replications
    aligned), best first; ``base`` names the unchanged market's entry."""
    summary = {name: ci_t(values, level) for name, values in scores.items()}
    order = sorted(scores, key=lambda n: _sort_key(summary[n].mean))

    def apart(a: str, b: str) -> bool:
        return paired_difference(scores[a], scores[b], level).distinguishable

    ranks: dict[str, tuple[int, str]] = {}
    leader, rank = "", 0
    for position, name in enumerate(order, start=1):
        if not leader or apart(leader, name):
            leader, rank = name, position
        ranks[name] = (rank, leader)
    return [
        Standing(
            name=name,
            label=labels.get(name, name),
            score=summary[name],
            vs_base=None if name == base else paired_difference(scores[base], scores[name], level),
            rank=ranks[name][0],
            leader=ranks[name][1],
            tied_with=tuple(other for other in order if other != name and not apart(name, other)),
        )
        for name in order
    ]


def _sort_key(mean: float) -> tuple[int, float]:
    """Best first; an undefined score last."""
    return (1, 0.0) if math.isnan(mean) else (0, -mean)
