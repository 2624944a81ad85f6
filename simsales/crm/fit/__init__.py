"""Fit a scenario to a team's CRM export (``simsales fit``).

``observed`` summarises opportunities (the export's, and a run's simulated export, by the same
code); ``direct`` estimates what the export says directly; ``parameters`` lists the behavioural
parameters estimated by simulation; ``objective`` and ``search`` find them; ``identify`` says
which the data pinned down; ``holdout`` predicts the last third of the period from the first
two; ``scenario_file`` writes the fitted scenario and ``report`` the fit report; ``workflow``
runs it all (``run_fit``).
"""

from simsales.crm.fit.direct import MIN_CLOSED, FitDataError
from simsales.crm.fit.parameters import PARAMETERS, FitParameter
from simsales.crm.fit.report import outcome_lines
from simsales.crm.fit.workflow import FitOutcome, FitRequest, FitRequestError, run_fit

__all__ = [
    "MIN_CLOSED",
    "PARAMETERS",
    "FitDataError",
    "FitOutcome",
    "FitParameter",
    "FitRequest",
    "FitRequestError",
    "outcome_lines",
    "run_fit",
]
