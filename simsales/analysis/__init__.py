"""Statistics over experiment results: pure functions of per-replication metrics.

Nothing here runs a simulation, plots or prints.
"""

from simsales.analysis.paired import PairedDifference, paired_difference

__all__ = ["PairedDifference", "paired_difference"]
