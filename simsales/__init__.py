"""simsales: a discrete-event simulator of B2B sales processes, buyer and seller as joint actors.

``simsales.run`` and ``simsales.compare`` are the library's entry points, and
``simsales.api.experiment`` runs an experiment file (``simsales.api``; ``simsales.experiment`` is
the package of the experiment machinery). They are imported on first use, so that
``import simsales`` stays quick for the command line.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "compare", "run"]


def __getattr__(name: str) -> Any:
    if name in ("run", "compare"):
        from simsales import api

        return getattr(api, name)
    raise AttributeError(f"module 'simsales' has no attribute {name!r}")
