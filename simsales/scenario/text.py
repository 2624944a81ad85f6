"""Free text from scenario and experiment files, kept from acting where it is shown.

Names and descriptions end up on terminals, in SVG figures, in HTML and Markdown pages. A control
character there is not text but a command: ``ESC ] 0 ;`` sets the terminal's title, ``ESC [ 2 J``
clears the screen, ``ESC ] 8 ;;`` opens a hyperlink, a C1 character (U+0080–U+009F) does the same
on terminals that read 8-bit controls; in an SVG file any of them makes the XML malformed. So:

- ``PlainText``, the type of every free-text field of the scenario and experiment schemas,
  refuses such characters when a file is validated (the user sees the key path and exit 2);
- ``printable`` shows them as visible escapes (``\\x1b``) wherever text leaves simsales for a
  person to read: error messages (which echo the values that failed validation, so they cannot
  rely on validation), terminal tables, trace and explain output, figures and reports.

Tab and newline stay allowed: a description may have several lines. Carriage return is refused
with the other controls (TOML turns a file's CRLF line ends into newlines, so only an explicit
``\\r`` escape can write one, and it would let a line overwrite itself on a terminal).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

__all__ = ["CONTROL_CHARACTERS", "PlainText", "check_plain_text", "printable"]

#: Refused in free text: C0 controls but tab and newline, DEL and the C1 controls.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Escaped where text must stay on one line: every control, tab and newline too.
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def printable(text: str, *, one_line: bool = False) -> str:
    """``text`` with each control character shown as a visible escape (``\\x1b``, ``\\x9b``).

    Tab and newline are kept unless ``one_line`` (then they show as ``\\t`` and ``\\n``, so
    that a value cannot start a line of its own in an error message). Text without control
    characters comes back unchanged.
    """
    pattern = _ANY_CONTROL if one_line else CONTROL_CHARACTERS
    return pattern.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    char = found[0]
    return _NAMED.get(char) or f"\\x{ord(char):02x}"


def check_plain_text(text: str) -> str:
    """``text`` if it holds no control character but tab and newline; else a ``ValueError``
    naming the first one (as U+XXXX, and where it is)."""
    found = CONTROL_CHARACTERS.search(text)
    if found is not None:
        raise ValueError(
            f"contains the control character U+{ord(found[0]):04X} (at {found.start()}); names, "
            "labels and descriptions must be plain text"
        )
    return text


#: A free-text field: a name, a label, a description. Refuses control characters.
PlainText = Annotated[str, AfterValidator(check_plain_text)]
