"""``python -m sim.explore [--port N] [--host H]``: serve the explorer's page.

``--benchmark [MONTHS]`` serves nothing: it steps the default county with every policy on, in
compare mode (the heaviest setting), for MONTHS months, builds the page's charts after each
month, and prints the time a month takes (median and 95th percentile, milliseconds).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

MODULE = "sim.explore.app"


def benchmark(months: int, settings: dict[str, Any] | None = None) -> dict[str, float]:
    """Time per month of the explorer: the model's step, and the charts built after it.

    Args:
        months: months to step (at most the run's horizon).
        settings: control values (default: every policy on, compare mode, the default county).

    Returns:
        Milliseconds: ``step_median``, ``charts_median``, ``month_median`` (step plus charts),
        ``month_p95``, and ``households``.
    """
    from sim.explore.charts import PANELS
    from sim.explore.controls import controls
    from sim.explore.model import ExplorerModel

    if settings is None:
        settings = {c.key: True for c in controls() if c.key.endswith(".enabled")}
        settings["compare"] = True
    model = ExplorerModel(**settings)
    step_ms, chart_ms = [], []
    for _ in range(min(months, model.cfg.months)):
        started = time.perf_counter()
        model.step()
        stepped = time.perf_counter()
        model.status()
        for _, chart, table in PANELS:
            json.dumps(chart(table(model)))  # the option as the page sends it
        step_ms.append(1000 * (stepped - started))
        chart_ms.append(1000 * (time.perf_counter() - stepped))
    month_ms = np.add(step_ms, chart_ms)
    return {
        "households": float(model.chosen.state.count),
        "step_median": float(np.median(step_ms)),
        "charts_median": float(np.median(chart_ms)),
        "month_median": float(np.median(month_ms)),
        "month_p95": float(np.percentile(month_ms, 95)),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of ``python -m sim.explore``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.explore",
        description="Serve the interactive explorer (a Solara page on Mesa's SolaraViz).",
        epilog="docs/explorer.md describes the page; docs/api.md the Python API.",
    )
    parser.add_argument("--port", type=int, default=8765, help="port to serve on (default 8765)")
    parser.add_argument("--host", default="localhost", help="address to listen on")
    parser.add_argument(
        "--benchmark",
        type=int,
        nargs="?",
        const=120,
        metavar="MONTHS",
        help="print the time a month takes (model step and charts) and exit",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        print(f"error: --port {args.port}: allowed 0 to 65535", file=sys.stderr)
        return 2
    if args.benchmark is not None:
        figures = benchmark(args.benchmark)
        print(
            f"{figures['households']:,.0f} households, every policy on, compare mode: "
            f"{figures['month_median']:.1f} ms a month (median; 95th percentile "
            f"{figures['month_p95']:.1f} ms): model step {figures['step_median']:.1f} ms, "
            f"charts {figures['charts_median']:.1f} ms"
        )
        return 0
    # Solara reports usage to its authors and asks PyPI for a newer version unless told not to;
    # a research tool on a researcher's machine does neither.
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")
    # Mesa 3.3's SolaraViz trips Solara's check of the rules of hooks (a use_state after an early
    # return in ComponentsView; Mesa 3.5 fixed it): a warning about Mesa's code, not ours.
    warnings.filterwarnings("ignore", message=r"(?s).*ComponentsView: `use_state` found")
    try:
        from solara.__main__ import cli
    except ImportError:
        print('error: the explorer needs its extra: pip install -e ".[explore]"', file=sys.stderr)
        return 2
    print(f"the explorer: http://{args.host}:{args.port}  (Ctrl-C stops it)", flush=True)
    run = ["run", MODULE, "--port", str(args.port), "--host", args.host, "--production"]
    cli.main(args=[*run, "--no-open", "--no-check-version"], prog_name="python -m sim.explore")
    return 0


if __name__ == "__main__":
    sys.exit(main())
