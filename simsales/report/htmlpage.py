"""The page around ``report.html``: its stylesheet, its Content-Security-Policy, and the small
builders of escaped HTML (cells, lists, tables) that ``simsales.report.html`` fills it with.

Also what the page needs from outside the results: the PNG bytes of the figures, saved once
(``stage_figures``), and the input files with their SHA-256 (``read_input``). Everything here
escapes text with ``html.escape`` unless its name or docstring says it takes HTML.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simsales.output import StagedFiles
from simsales.report.figures import FIGURE_DIR, save_figures
from simsales.scenario.text import printable

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "InputFile",
    "code",
    "embedded_figure",
    "esc",
    "name_code",
    "nowrap",
    "page",
    "png_size",
    "read_input",
    "stage_figures",
    "table",
    "td",
    "ul",
    "with_code",
]

#: No request leaves the page: images only from ``data:``, styles only inline, no script.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'"

_STYLE = """
:root { color-scheme: light; }
body { margin: 0; background: #fff; color: #1a1a1a; font: 16px/1.5 system-ui, -apple-system,
  "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 2rem 1.5rem 3rem; }
h1 { font-size: 1.8rem; line-height: 1.25; margin: 0 0 .5rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .6rem; padding-bottom: .2rem;
  border-bottom: 1px solid #ccc; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
p.lead { font-size: 1.1rem; color: #333; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: .88em; }
code { background: #f3f3f3; padding: 0 .2em; border-radius: 3px; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: .8rem; overflow-x: auto;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; margin: .6rem 0 1rem; }
table { border-collapse: collapse; font-size: .9rem; }
td:first-child { min-width: 8rem; }
th, td { border: 1px solid #bbb; padding: .3rem .55rem; vertical-align: top; }
th { background: #eee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num span { white-space: nowrap; }
span.interval { color: #555; font-size: .85em; }
tr.base td { font-weight: 600; }
figure { margin: 1.5rem 0 2rem; break-inside: avoid; page-break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #e2e2e2; }
figcaption { margin-top: .4rem; font-style: italic; color: #333; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
dl.facts pre.command { margin: 0; padding: .3rem .5rem; }
details { margin: .6rem 0; }
summary { cursor: pointer; }
footer { margin-top: 3rem; font-size: .85rem; color: #666; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; page-break-after: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  pre { white-space: pre-wrap; }
  code { background: none; }
  .table-wrap { overflow: visible; }
  table { font-size: 8pt; }
  th, td { padding: .15rem .3rem; }
  td:first-child { min-width: 0; }
}
"""


@dataclass(frozen=True, kw_only=True)
class InputFile:
    """A file the results came from, as the report shows it: its text and SHA-256.

    ``text`` is ``None`` (and ``error`` says why) when the file could not be read again after
    the run; the report says so instead of failing, since the results are already computed.
    """

    role: str
    path: str
    text: str | None
    sha256: str = ""
    size: int = 0
    error: str = ""


def read_input(path: str, role: str) -> InputFile:
    """Read ``path`` for the report: its text (undecodable bytes replaced) and SHA-256."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        return InputFile(role=role, path=path, text=None, error=err.strerror or str(err))
    return InputFile(
        role=role,
        path=path,
        text=data.decode("utf-8", errors="replace"),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def stage_figures(staged: StagedFiles, figures: Mapping[str, Figure]) -> dict[str, bytes]:
    """``save_figures`` into ``staged``, keeping each PNG's bytes (by stem) for the page.

    The figures are saved once, into a scratch folder, then copied into ``staged``: the page
    embeds exactly the PNG files of ``figures/`` without drawing anything twice.
    """
    pngs: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="simsales-figures-") as scratch:
        with StagedFiles(scratch) as drawn:
            names = save_figures(drawn, figures)
            drawn.commit()
        for name in names:
            data = (Path(scratch) / name).read_bytes()
            staged.open(name, binary=True).write(data)
            stem, _, ext = name.removeprefix(f"{FIGURE_DIR}/").rpartition(".")
            if ext == "png":
                pngs[stem] = data
    return pngs


def page(title: str, body: Sequence[str], document: Mapping[str, Any]) -> str:
    """The whole page: ``body`` (HTML parts, in order) under the stylesheet and the policy;
    ``document`` (the run's JSON document) gives the simsales version for the footer."""
    version = document.get("simsales_version", "")
    footer = f"<footer>Written by simsales {esc(version)}; the same report as report.md.</footer>"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            "<main>",
            *body,
            footer,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


def esc(text: Any) -> str:
    """Text from anywhere, safe between tags and in attribute values (control characters, not
    allowed in HTML, shown as escapes)."""
    return html.escape(printable(str(text)), quote=True)


def code(text: str) -> str:
    """Text as inline code: a key, a path, a setting."""
    return f"<code>{esc(text)}</code>"


def name_code(text: str) -> str:
    """A metric name as code that may wrap after its underscores (narrow table headers)."""
    return "<code>" + esc(text).replace("_", "_<wbr>") + "</code>"


def nowrap(text: str) -> str:
    """Text kept on one line, in a table cell that may otherwise wrap."""
    return f"<span>{esc(text)}</span>"


def with_code(text: str) -> str:
    """Escaped ``text`` with its Markdown code spans (```metric```) as ``<code>``."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", esc(text))


def ul(items: Sequence[str]) -> str:
    """A ``<ul>`` of items that are already HTML."""
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def table(heads: Sequence[str], rows: Sequence[tuple[str, Sequence[str]]]) -> str:
    """A table: ``heads`` are HTML, each row its ``<tr>`` attributes and its ``<td>`` cells."""
    head = "".join(f'<th scope="col">{h}</th>' for h in heads)
    body = "".join(f"<tr{attrs}>{''.join(cells)}</tr>" for attrs, cells in rows)
    grid = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="table-wrap">{grid}</div>'


def td(inner: str, *, num: bool = False) -> str:
    """A table cell of HTML ``inner``; ``num``: a number, right-aligned."""
    return f'<td class="num">{inner}</td>' if num else f"<td>{inner}</td>"


def png_size(png: bytes) -> tuple[int, int] | None:
    """Width and height in pixels from a PNG's header, or ``None`` if it is not one."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        return None
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def embedded_figure(png: bytes, alt: str, caption: str, *, figure_id: str | None = None) -> str:
    """A ``<figure>`` with the PNG inline (a ``data:`` image, sized from its header), ``alt``
    as plain text (escaped here) and ``caption`` as HTML (escaped by the caller)."""
    size = png_size(png)
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    data = base64.b64encode(png).decode("ascii")
    ident = f' id="{esc(figure_id)}"' if figure_id is not None else ""
    return (
        f'<figure{ident}><img src="data:image/png;base64,{data}" alt="{esc(alt)}"{dims}>'
        f"<figcaption>{caption}</figcaption></figure>"
    )
