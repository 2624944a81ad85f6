"""The bundled baseline lands in the published ranges its comments cite (docs/model.md).

One run of the baseline exactly as shipped (its own replications and seed); the assertion is on
the 95% interval over replications, so a calibration that drifts out of range fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simsales.experiment import run_replications
from simsales.results import MetricSummary, summarise
from simsales.scenario import load_scenario

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"


@pytest.fixture(scope="module")
def baseline_summary() -> dict[str, MetricSummary]:
    scenario = load_scenario(BASELINE)
    per_rep = run_replications(
        scenario, replications=scenario.run.replications, seed=scenario.run.seed
    )
    return summarise(per_rep)


@pytest.mark.parametrize(
    ("metric", "low", "high", "source"),
    [
        ("no_decision_of_not_won_qualified", 0.40, 0.60, "JOLT: 40-60% of deals not won"),
        ("win_rate_qualified", 0.20, 0.30, "win rate of qualified opportunities 20-30%"),
        ("cycle_median_won_days", 60.0, 150.0, "median time to a win of 2-5 months"),
    ],
)
def test_baseline_in_published_range(
    baseline_summary: dict[str, MetricSummary], metric: str, low: float, high: float, source: str
) -> None:
    s = baseline_summary[metric]
    shown = f"{metric} = {s.mean:.3g} ± {s.half_width:.2g}"
    assert low <= s.low and s.high <= high, f"{shown}: {source}"


def test_purchase_likelihood_parameters_are_the_cited_ones() -> None:
    consensus = load_scenario(BASELINE).buyers.consensus
    p = [consensus.p_one * consensus.q_per_extra ** (n - 1) for n in (1, 6)]
    assert p[0] == pytest.approx(0.81) and p[1] == pytest.approx(0.31, abs=0.01)
