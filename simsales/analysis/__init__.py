"""Pure computations over results and scenarios: statistics of per-replication metrics, and the
process map a scenario describes (``process_map``).

Nothing here runs a simulation, plots or prints.
"""

from simsales.analysis.paired import PairedDifference, paired_difference

__all__ = ["PairedDifference", "paired_difference"]
