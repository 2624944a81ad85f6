"""Performance benchmark of ``simsales fit`` (issue 13, "Performance").

A benchmark, not a test. It writes a CRM export of about 5,000 opportunities with the simulator
itself, from known parameters (``scenarios/baseline.toml`` with a larger team and market and
two behavioural parameters moved: ``--truth``), then times the command a user runs::

    simsales fit export.csv --mapping mapping.toml --base scenarios/baseline.toml \\
        -o ours.toml --jobs 2

with the defaults (all six behavioural parameters, ``--budget 48``, 2 replications per
evaluation, the profiles and the held-out check included), in a fresh process, wall time by
``time.perf_counter``. Target: at most 600 s on a 2-core machine. It also prints the fitted
values of the two moved parameters against the truth (information: with six parameters free
and this budget, a fit is not expected to find every one; the recovery test does that with two).

Run from the repository root: ``python benchmarks/bench_fit.py [--jobs 2] [--keep DIR]``.
The load average is printed before and after: timings taken while other processes use the
same cores are long. Exits 0 unless it crashes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from simsales.crm.synthetic import ExportLayout, write_crm_export
from simsales.model import simulate
from simsales.results import DealTable
from simsales.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
#: About 5,000 opportunities over two years: 190 sellers, 28 suspects a day.
MARKET = ["run.horizon_days=760", "market.suspects_per_day=28", "team.sellers=190"]
TRUTH = {"buyers.momentum.half_life_days": 30.0, "buyers.competition.hazard_per_day": 0.0006}
TARGET_SECONDS = 600.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="Write the export and the fit here.")
    parser.add_argument("fit_options", nargs="*", help="More options for simsales fit.")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="simsales-bench-fit-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()}")
    truth = load_scenario(BASELINE, [*MARKET, *(f"{k}={v}" for k, v in TRUTH.items())])
    table = DealTable.from_records(simulate(truth, seed=args.seed, replication=0))
    layout = ExportLayout()
    export, mapping = folder / "export.csv", folder / "mapping.toml"
    rows = write_crm_export([table], export, layout)
    mapping.write_text(layout.mapping_toml(), "utf-8")
    print(f"export: {rows} opportunities in {export}")
    out = folder / "ours.toml"
    command = [sys.executable, "-m", "simsales.cli", "fit", str(export), "--mapping",
               str(mapping), "--base", str(BASELINE), "-o", str(out), "--jobs",
               str(args.jobs), "--force", *args.fit_options]  # fmt: skip
    print("running:", " ".join(command[2:]))
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    print(done.stdout, end="")
    if done.returncode != 0:
        print(done.stderr, end="")
        print(f"FAIL: simsales fit exited {done.returncode}")
        return 0
    verdict = "PASS" if seconds <= TARGET_SECONDS else "FAIL"
    print(
        f"{verdict}: fit of {rows} opportunities took {seconds:.0f} s with --jobs {args.jobs}"
        f" (target <= {TARGET_SECONDS:.0f} s on 2 cores)"
    )
    with open(out, "rb") as fh:
        fitted = tomllib.load(fh)
    for key, value in TRUTH.items():
        node = fitted
        for step in key.split("."):
            node = node.get(step, {}) if isinstance(node, dict) else {}
        print(f"  {key}: truth {value:g}, fitted {node if node != {} else '(not written)'}")
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
