"""Throughput, scaling and memory of the engine, and its speed against a per-agent Mesa model.

Run from the repository root::

    python -m benchmarks.throughput            # about a minute on two cores
    python -m benchmarks.throughput --quick    # 10,000 and 100,000 households only

Prints ``key=value`` lines (docs/performance.md explains each):

- ``household_months_per_s[N]``: households x months / seconds of stepping (start-up excluded) of
  the model with every registered policy enabled (``policy=all``), best of ``--repeats`` runs at
  N = 10,000 and 100,000; the 1,000,000-household run is made once, in a child process, which
  also prints ``run_s[1000000]`` (start-up and stepping) and ``peak_rss_mb`` (its peak resident
  memory).
- ``household_months_per_cpu_s[N]``: the same over the process's CPU seconds (less noisy than
  wall time on a loaded machine; the engine runs in one thread).
- ``scaling_exponent``: slope of log(stepping time) against log(households); 1 is linear.
- ``ratio_vs_mesa_agents``: the engine over the per-agent Mesa model of benchmarks/mesa_agents.py
  on the same rules (``policy=none``), both at 10,000 households;
  ``ratio_vs_mesa_agents_all_policies`` puts the engine's ``policy=all`` figure over it.
- ``agent_views_s[1000000]``: time to create the Mesa agent views of a million households (they
  are created only when ``PovertyModel.households`` is first used), in a child process.
- ``load_average``: the machine's 1, 5 and 15-minute load averages before the first and after
  the last measurement (other work on the machine slows the wall-clock figures).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import mesa
import numpy as np

from benchmarks.mesa_agents import PerAgentModel
from sim.config import Config, compose
from sim.engine.model import PovertyModel

ROOT = Path(__file__).resolve().parent.parent
QUIET = ("output.progress=false", "output.console_summary=false", "output.plots=false")


def config(households: int, policy: str, months: int) -> Config:
    """The default county with ``households`` households, a policy preset, ``months`` long."""
    years = math.ceil(months / 12)
    return compose(
        [f"population.households={households}", f"policy={policy}", f"years={years}", *QUIET]
    )


def time_steps(make: Callable[[], mesa.Model], months: int) -> tuple[float, float, float]:
    """Seconds to build a model, and wall and CPU seconds to step it ``months`` times."""
    start = time.perf_counter()
    model = make()
    built = time.perf_counter()
    cpu = time.process_time()
    for _ in range(months):
        model.step()
    return built - start, time.perf_counter() - built, time.process_time() - cpu


def best_steps(
    make: Callable[[], mesa.Model], months: int, repeats: int
) -> tuple[float, float, float]:
    """The fastest start-up, wall and CPU stepping of ``repeats`` runs (timings are noisy)."""
    runs = [time_steps(make, months) for _ in range(repeats)]
    return min(r[0] for r in runs), min(r[1] for r in runs), min(r[2] for r in runs)


def peak_rss_mb() -> float:
    """Peak resident memory of this process, MB (``ru_maxrss`` is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args: list[str]) -> dict[str, str]:
    """Run this module with ``args`` in a fresh interpreter and parse its ``key=value`` lines."""
    command = [sys.executable, "-m", "benchmarks.throughput", *args]
    out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def child_run(households: int, months: int) -> None:
    """One engine run with every policy (the child process of the big run)."""
    cfg = config(households, "all", months)
    startup, stepping, _ = time_steps(lambda: PovertyModel(cfg), months)
    print(f"startup_s={startup:.3f}")
    print(f"stepping_s={stepping:.3f}")
    print(f"peak_rss_mb={peak_rss_mb():.0f}")


def child_views(households: int) -> None:
    """Time the creation of the Mesa agent views of ``households`` households."""
    model = PovertyModel(config(households, "all", 12))
    before = peak_rss_mb()
    start = time.perf_counter()
    views = model.households
    seconds = time.perf_counter() - start
    assert len(views) == households
    print(f"agent_views_s={seconds:.3f}")
    print(f"agent_views_mb={peak_rss_mb() - before:.0f}")


def emit(key: str, value: float | str) -> None:
    """Print one result line."""
    if isinstance(value, str):
        text = value
    else:
        text = f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    print(f"{key}={text}", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its ``key=value`` lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=120, help="months per engine run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per size; the best counts")
    parser.add_argument("--agent-months", type=int, default=12, help="months of the Mesa model")
    parser.add_argument("--quick", action="store_true", help="skip the 1,000,000-household runs")
    parser.add_argument("--child-run", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-views", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_run is not None:
        child_run(args.child_run, args.months)
    elif args.child_views is not None:
        child_views(args.child_views)
    else:
        benchmark(args.months, args.repeats, args.agent_months, quick=args.quick)


def benchmark(months: int, repeats: int, agent_months: int, *, quick: bool) -> None:
    """The benchmark proper (see the module docstring)."""
    emit("machine", f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores")
    emit("load_average", load_average())
    versions = (
        f"python {platform.python_version()}, numpy {np.__version__}, mesa {mesa.__version__}"
    )
    emit("versions", versions)
    probe = PovertyModel(config(600, "all", 12))
    emit("policies", ",".join(p.name for p in probe.policies) or "none")
    emit("months", str(months))

    stepping: dict[int, float] = {}
    for households in (10_000, 100_000):
        cfg = config(households, "all", months)
        startup, stepping[households], cpu = best_steps(
            lambda c=cfg: PovertyModel(c), months, repeats
        )
        emit(f"startup_s[{households}]", startup)
        emit(f"household_months_per_s[{households}]", households * months / stepping[households])
        emit(f"household_months_per_cpu_s[{households}]", households * months / cpu)

    if not quick:
        big = 1_000_000
        result = child(["--child-run", str(big), "--months", str(months)])
        stepping[big] = float(result["stepping_s"])
        emit(f"startup_s[{big}]", float(result["startup_s"]))
        emit(f"household_months_per_s[{big}]", big * months / stepping[big])
        emit(f"run_s[{big}]", float(result["startup_s"]) + stepping[big])
        emit("peak_rss_mb", result["peak_rss_mb"])

    sizes = sorted(stepping)
    slope = np.polyfit(np.log(sizes), np.log([stepping[n] for n in sizes]), 1)[0]
    emit("scaling_exponent", float(slope))

    households = 10_000
    same_rules = config(households, "none", months)
    _, engine_s, _ = best_steps(lambda: PovertyModel(same_rules), months, repeats)
    _, agents_s, _ = best_steps(lambda: PerAgentModel(same_rules), agent_months, repeats)
    engine = households * months / engine_s
    per_agent = households * agent_months / agents_s
    emit(f"household_months_per_s_policy_none[{households}]", engine)
    emit(f"household_months_per_s_mesa_agents[{households}]", per_agent)
    emit("ratio_vs_mesa_agents", engine / per_agent)
    all_policies = households * months / stepping[households]
    emit("ratio_vs_mesa_agents_all_policies", all_policies / per_agent)

    if not quick:
        views = child(["--child-views", str(1_000_000)])
        emit("agent_views_s[1000000]", float(views["agent_views_s"]))
        emit("agent_views_mb[1000000]", views["agent_views_mb"])
    emit("load_average", load_average())


def load_average() -> str:
    """The 1, 5 and 15-minute load averages of the machine."""
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


if __name__ == "__main__":
    main()
