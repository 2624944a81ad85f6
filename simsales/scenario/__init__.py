"""Scenario files: the schema, loading (TOML, ``extends``, overrides) and clear errors.

Pure data: this package imports nothing from the rest of simsales.
"""

from simsales.scenario.errors import Problem, ScenarioError
from simsales.scenario.loading import load_scenario, scenario_json_schema
from simsales.scenario.schema import Scenario

__all__ = ["Problem", "Scenario", "ScenarioError", "load_scenario", "scenario_json_schema"]
