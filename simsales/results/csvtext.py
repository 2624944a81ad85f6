"""Text cells of the CSV files simsales writes, made safe to open in a spreadsheet.

A spreadsheet reads a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and a
formula can fetch from the network or run a command (CSV or formula injection). Names in a
scenario are free text, so a segment called ``=HYPERLINK(...)`` would become one. As OWASP
recommends, such a text cell is written with a single quote in front, which a spreadsheet shows
as text; so is one starting with a tab or a carriage return. Numbers are never changed: they are
not text cells, and ``-3.5`` stays a number.

To keep every value readable back exactly, a text cell that already starts with quotes followed
by one of those characters gets one more quote too; ``read_csv_text`` takes exactly one off, so
``csv_text`` and ``read_csv_text`` are inverse for every string.
"""

from __future__ import annotations

import re

__all__ = ["FORMULA_START", "csv_text", "read_csv_text"]

#: The first characters of a text cell a spreadsheet would not read as plain text.
FORMULA_START = "=+-@\t\r"
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")


def csv_text(text: str) -> str:
    """``text`` as a CSV cell: a single quote in front if a spreadsheet would take it for a
    formula (or if it is quotes before such a start, so that reading it back is exact)."""
    return "'" + text if _NEEDS_QUOTE.match(text) else text


def read_csv_text(cell: str) -> str:
    """The text ``csv_text`` was given for ``cell``: one leading quote taken off where it added
    one; any other cell as it is."""
    return cell[1:] if cell[:1] == "'" and _NEEDS_QUOTE.match(cell, 1) else cell
