"""The outputs reference's account parts: ``accounts.csv``, origins, end reasons, account metrics.

They are read from ``ACCOUNT_FIELDS``, ``END_REASON_MEANINGS``, ``ORIGINS`` and
the metric catalogue, and from the header ``write_accounts_csv`` really writes.
"""

from __future__ import annotations

import io

import numpy as np

from simsales.model.account_records import ACCOUNT_FIELDS, END_REASON_MEANINGS, END_REASONS
from simsales.model.records import ORIGINS
from simsales.reference._markdown import md, md_table, metric_table, paragraphs
from simsales.results import accounts as accounts_module
from simsales.results.accounts import AccountTable, write_accounts_csv
from simsales.results.catalogue import ACCOUNT_METRIC_NAMES, metric_catalogue

__all__ = ["ORIGIN_MEANINGS", "account_metric_lines", "account_section"]

#: What each origin of ``ORIGINS`` (the ``origin`` column of ``deals.csv``) means.
ORIGIN_MEANINGS: dict[str, str] = {
    "new_business": "a suspect from the market (stage 0); every deal without `[accounts]`.",
    "upsell": "an expansion opportunity in an account: more of what it bought.",
    "cross_sell": "an expansion opportunity in an account: something else it can use.",
    "referral": "an expansion opportunity in another division the account referred us to.",
    "restart": "a change event restarted a healthy account at stage 7: a new opportunity of an "
    "expansion kind.",
    "renegotiation": "a change event restarted a healthy account at stage 5: its contract "
    "renegotiated in the last stage; not won, the account leaves.",
}

_TEXT_COLUMNS = ("segment", "real_reason", "stated_reason", "change_kind")
_KINDS = {"b": "integer", "h": "integer", "i": "integer", "f": "number", "d": "number"}


def _header() -> list[str]:
    cols = {name: np.zeros(0, dtype=np.dtype(code)) for name, (code, _) in ACCOUNT_FIELDS.items()}
    log = {name: np.zeros(0) for name in ("account_id", "time", "arr", "amount")}
    probe = AccountTable(
        columns=cols,
        log=log,
        segment_names=("core",),
        change_kinds=(),
        replication=0,
        horizon_days=1.0,
        warmup_days=0.0,
    )
    buffer = io.StringIO()
    write_accounts_csv([probe], buffer)
    return buffer.getvalue().strip().split(",")


def account_section() -> list[str]:
    """``## Accounts: accounts.csv``: its columns, the end reasons and the deal origins."""
    missing = [name for name in ORIGINS if name not in ORIGIN_MEANINGS]
    if missing:
        raise LookupError(f"say what the origins {missing} mean in {__name__}")
    header = _header()
    rows = [("`replication`", "integer", "replication, from 0")]
    for name, (code, meaning) in ACCOUNT_FIELDS.items():
        kind = "text" if name in _TEXT_COLUMNS else _KINDS[code]
        shown = md(meaning) + ("; written by name" if name in _TEXT_COLUMNS else "")
        rows.append((f"`{name}`", kind, shown))
    reasons = [(f"`{name}`", md(END_REASON_MEANINGS[name])) for name in END_REASONS]
    origins = [(f"`{name}`", md(ORIGIN_MEANINGS[name])) for name in ORIGINS]
    return [
        "## Accounts: `accounts.csv`",
        "",
        "Written only for a scenario with `[accounts]`: one row per account of every "
        "replication, as it stands at the horizon, in order of creation. A won deal creates an "
        "account; opportunities inside an account (expansions, restarts) are rows of "
        "`deals.csv` with its `account_id` and their `origin`. Times are days since the start; "
        "an empty cell is a missing value (an account still active has no `ended_at`).",
        "",
        *md_table(("column", "type", "meaning"), rows),
        "",
        "The whole header is:",
        "",
        "```",
        ",".join(header),
        "```",
        "",
        "### Why an account ended",
        "",
        "`real_reason` is the cause in the model; `stated_reason` is what the exit interview "
        "heard: the real reason with chance `accounts.offboarding.find_real_reason`, else the "
        "excuse `price`.",
        "",
        *md_table(("reason", "meaning"), reasons),
        "",
        "### Where an opportunity came from: `origin` in `deals.csv`",
        "",
        "Opportunities inside accounts have deal ids from 1,000,000,000 on, in order of "
        "creation, and are left out of the per-deal metrics, which describe new business; "
        "the account metrics below cover them.",
        "",
        *md_table(("origin", "meaning"), origins),
    ]


def account_metric_lines() -> list[str]:
    """The account metrics: how they are counted, then one row each."""
    catalogue = metric_catalogue((), accounts=True)
    metrics = [catalogue[name] for name in ACCOUNT_METRIC_NAMES]
    return [
        "### Account metrics (only with `[accounts]`)",
        "",
        *(
            line
            for paragraph in paragraphs(accounts_module.__doc__)[1:]
            for line in (paragraph, "")
        ),
        *metric_table(metrics),
    ]
