"""Where a run spends its time: a sampling profile of start-up and stepping.

Needs the profilers, which are not project dependencies::

    pip install pyinstrument line_profiler
    python -m benchmarks.profile_run                          # 100,000 households, policy=all
    python -m benchmarks.profile_run --households 1000000 --months 24
    python -m benchmarks.profile_run --lines                  # line by line, the model's phases

Prints the functions of ``sim`` with the largest own time (a numpy call is charged to the
function of ``sim`` that makes it), then the call tree; with ``--lines``, the time of
each line of the model's phases, of the household rules, of the shock draws, of the ledger and
of every built-in policy's monthly step.
"""

from __future__ import annotations

import argparse
import os
from collections import defaultdict
from typing import TYPE_CHECKING

from sim.config import compose
from sim.engine.ledger import Ledger
from sim.engine.model import PovertyModel
from sim.engine.shocks import ShockDraws
from sim.engine.state import HouseholdState
from sim.policies import ORDER

if TYPE_CHECKING:
    from pyinstrument.frame import Frame


def profile_functions(model_args: list[str], months: int, top: int) -> None:
    """Sample the run with pyinstrument and print the top functions and the call tree."""
    from pyinstrument import Profiler
    from pyinstrument.renderers import ConsoleRenderer

    cfg = compose(model_args)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    model = PovertyModel(cfg)
    for _ in range(months):
        model.step()
    profiler.stop()
    session = profiler.last_session
    assert session is not None
    print(f"{cfg.population.households} households, {months} months, {session.duration:.2f} s")
    own = own_times(session.root_frame())
    for label, seconds in sorted(own.items(), key=lambda item: -item[1])[:top]:
        print(f"{100 * seconds / session.duration:5.1f}%  {seconds:6.3f} s  {label}")
    print()
    print(profiler.output(ConsoleRenderer(unicode=False, color=False, show_all=False)))


def own_times(root: Frame) -> dict[str, float]:
    """Seconds spent in each function of ``sim`` itself, numpy and Mesa calls included.

    Time goes to the innermost function of the ``sim`` package on the stack, so a numpy
    operation is charged to the model phase or policy that makes it.
    """
    own: dict[str, float] = defaultdict(float)

    def walk(frame: Frame, owner: str | None) -> None:
        if f"{os.sep}sim{os.sep}" in (frame.file_path or "") and not frame.is_synthetic:
            name = f"{frame.class_name}.{frame.function}" if frame.class_name else frame.function
            label = f"{name}  {frame.file_path_short}:{frame.line_no}"
            own[label] += frame.time
            if owner is not None:
                own[owner] -= frame.time
            owner = label
        for child in frame.children:
            walk(child, owner)

    if root is not None:
        walk(root, None)
    return own


def profile_lines(model_args: list[str], months: int) -> None:
    """Time each line of the model's phases, household rules, shock draws and ledger."""
    from line_profiler import LineProfiler

    profiler = LineProfiler()
    for phase in (
        PovertyModel.step,
        PovertyModel._illness,
        PovertyModel._disasters,
        PovertyModel._labour_market,
        HouseholdState.earn_month,
        HouseholdState.move_workers,
        PovertyModel._close_month,
        PovertyModel._assess_year,
        ShockDraws.month,
        Ledger.transfer,
        Ledger.cover_expense,
        Ledger._book,
    ):
        profiler.add_function(phase)
    for policy in ORDER:  # the step itself, not the wrapper that checks the policy's calendar
        profiler.add_function(getattr(policy.step, "__wrapped__", policy.step))
    model = PovertyModel(compose(model_args))
    with profiler:
        for _ in range(months):
            model.step()
    profiler.print_stats(output_unit=1e-3, stripzeros=True)


def main() -> None:
    """Parse the options and profile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--policy", default="all", help="a policy preset (configs/policy)")
    parser.add_argument("--top", type=int, default=15, help="functions listed by own time")
    parser.add_argument("--lines", action="store_true", help="line by line (line_profiler)")
    args = parser.parse_args()
    model_args = [
        f"population.households={args.households}",
        f"policy={args.policy}",
        f"years={-(-args.months // 12)}",
        "output.progress=false",
    ]
    if args.lines:
        profile_lines(model_args, args.months)
    else:
        profile_functions(model_args, args.months, args.top)


if __name__ == "__main__":
    main()
