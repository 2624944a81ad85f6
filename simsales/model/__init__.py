"""The SimPy model: market, sellers, buyers and opportunities. Reads a scenario, writes records.

Nothing here plots, prints or touches files.
"""

from simsales.model.records import OUTCOMES, RunRecords
from simsales.model.simulation import simulate

__all__ = ["OUTCOMES", "RunRecords", "simulate"]
