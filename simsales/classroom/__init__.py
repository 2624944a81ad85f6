"""The classroom: teams play rounds against each other on one market (``simsales class``).

- ``spec``: the class file (``class.toml``): market, levers with their costs, score, teams.
- ``decisions``: a team's decision for a round, checked against the levers and the budget,
  and applied to its market.
- ``setup``: ``class init``, a class folder ready to play.
- ``rounds``: plan a round (every decision checked), run it (every team and the base on common
  random numbers), and the state that carries over from round to round.
- ``leaderboard``: scores, paired differences and rank groups.
- ``debrief``: the deal whose story a team's changes rewrote most.
- ``pages``: the leaderboard and debrief pages, and the round's files.
- ``web``: the class's web page (the optional extra ``simsales[class]``).
"""

from simsales.classroom.decisions import CheckedDecision, check_decision, decision_text
from simsales.classroom.leaderboard import Standing, score_values, standings
from simsales.classroom.pages import print_leaderboard, publish_round
from simsales.classroom.rounds import (
    RoundPlan,
    RoundResult,
    current_values,
    finished_rounds,
    plan_round,
    run_round,
)
from simsales.classroom.setup import init_class
from simsales.classroom.spec import CLASS_FILE, Classroom, ClassSpec, load_class

__all__ = [
    "CLASS_FILE",
    "CheckedDecision",
    "ClassSpec",
    "Classroom",
    "RoundPlan",
    "RoundResult",
    "Standing",
    "check_decision",
    "current_values",
    "decision_text",
    "finished_rounds",
    "init_class",
    "load_class",
    "plan_round",
    "print_leaderboard",
    "publish_round",
    "run_round",
    "score_values",
    "standings",
]
