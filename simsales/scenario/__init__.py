"""Scenario files: the schema, loading (TOML, ``extends``, overrides) and clear errors.

Pure data: this package imports nothing from the rest of simsales.
"""

from simsales.scenario.schema import Scenario

__all__ = ["Scenario"]
