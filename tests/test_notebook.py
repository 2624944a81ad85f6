"""docs/how-to/notebook.ipynb runs: its code cells, in order, as a kernel would run them.

The cells are executed here directly (no Jupyter kernel needed): each cell's statements run in
one namespace from the notebook's folder, and its last expression is shown the way Jupyter
shows it, through ``_repr_html_`` or ``_repr_png_`` where the value has one, so that a result or
a figure that cannot show itself fails the test.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pandas")

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "how-to" / "notebook.ipynb"


def _cells() -> list[str]:
    document = json.loads(NOTEBOOK.read_text("utf-8"))
    return ["".join(c["source"]) for c in document["cells"] if c["cell_type"] == "code"]


def _show(value: Any) -> str:
    """What Jupyter would display for ``value``: HTML, a PNG, or the repr."""
    for method in ("_repr_html_", "_repr_png_"):
        shown = getattr(value, method, None)
        if shown is not None:
            out = shown()
            assert out, f"{type(value).__name__}.{method} gave nothing"
            return "<png>" if isinstance(out, bytes) else str(out)
    return repr(value)


def test_the_notebook_runs_and_shows_its_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(NOTEBOOK.parent)
    namespace: dict[str, Any] = {"__name__": "__notebook__"}
    shown = []
    for source in _cells():
        tree = ast.parse(source)
        last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        body = ast.Module(body=tree.body[:-1] if last else tree.body, type_ignores=[])
        exec(compile(body, str(NOTEBOOK), "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), str(NOTEBOOK), "eval"), namespace)
            shown.append(_show(value))
    # the three lines: deals and a comparison as DataFrames
    deals, effects = namespace["deals"], namespace["effects"]
    assert len(deals) > 100 and deals["outcome"].dtype == "category"
    assert set(effects["metric"]) >= {"cycle_median_won_days", "no_decision_rate"}
    # the comparison opens with its answer, each variant's line with intervals
    page = _show(namespace["comparison"])
    assert "call-compression: time to a win" in page and "short-gaps: time to a win" in page
    assert "<png>" in shown
