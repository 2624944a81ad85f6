"""The win/loss part of the output reference: end causes, stated causes and their metrics.

Read from ``END_CAUSE_MEANINGS``, ``STATED_CAUSES`` and the metric catalogue, so the reference
cannot drift from what the model records and the results layer computes.
"""

from __future__ import annotations

from simsales.model.records import END_CAUSE_MEANINGS, END_CAUSES, STATED_CAUSES
from simsales.reference._markdown import md, md_table, metric_table, paragraphs
from simsales.results import win_loss as win_loss_module
from simsales.results.catalogue import WIN_LOSS_METRIC_NAMES, metric_catalogue

#: What each excuse of ``STATED_CAUSES`` (beyond the real causes) means.
_EXCUSE_MEANINGS: dict[str, str] = {
    "not_interviewed": "no interview: the deal did not end lost or in no decision, or its buyer "
    "was not among the `win_loss.interview_share` asked (always so without `[win_loss]`).",
    "price": "the excuse a lost buyer gives: the price.",
    "timing": 'the excuse a no-decision buyer gives: "the timing, not a priority now".',
}


def win_loss_section() -> list[str]:
    """End causes, stated causes, and the win/loss metrics (only with ``[win_loss]``)."""
    missing = [n for n in STATED_CAUSES if n not in END_CAUSES and n not in _EXCUSE_MEANINGS]
    if missing:
        raise LookupError(f"say what the stated causes {missing} mean in {__name__}")
    causes = [
        (str(code), f"`{name}`", md(END_CAUSE_MEANINGS[name]))
        for code, name in enumerate(END_CAUSES)
    ]
    stated = [
        (
            str(code),
            f"`{name}`",
            md(
                _EXCUSE_MEANINGS.get(name, "the interview heard the real cause (as in `end_cause`)")
            ),
        )
        for code, name in enumerate(STATED_CAUSES)
    ]
    catalogue = metric_catalogue((), win_loss=True)
    metrics = [catalogue[name] for name in WIN_LOSS_METRIC_NAMES]
    return [
        "## Win/loss: end causes and interviews",
        "",
        "`end_cause` in `deals.csv` is the real cause of a deal's end, in the model (the code of "
        "this table); a no decision's cause is the cause of its `went_dark` event:",
        "",
        *md_table(("code", "cause", "meaning"), causes),
        "",
        "`stated_cause` is what the win/loss interview (`[win_loss]`) heard: a real cause keeps "
        "its code, so the interview heard the real cause exactly where the two columns agree.",
        "",
        *md_table(("code", "stated cause", "meaning"), stated),
        "",
        "### Win/loss metrics (only with `[win_loss]`)",
        "",
        *(
            line
            for paragraph in paragraphs(win_loss_module.__doc__)[1:]
            for line in (paragraph, "")
        ),
        *metric_table(metrics),
    ]
