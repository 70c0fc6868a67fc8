"""Faults of real sweeps (``python -m sim -m``): what a researcher meets, and what stays.

Each case goes through the command line in a child process on a small county: exit status, the
files of the sweep folder, the console lines, and no traceback.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SMALL = ("population=small",)
ENV = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}


def sweep(sweep_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", "-m", *SMALL, *args, f"hydra.sweep.dir={sweep_dir}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )


def start(sweep_dir: Path, *args: str) -> subprocess.Popen[str]:
    """A sweep in a session of its own (so that its process group can be signalled)."""
    return subprocess.Popen(
        [sys.executable, "-m", "sim", "-m", *SMALL, *args, f"hydra.sweep.dir={sweep_dir}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        start_new_session=True,
    )


def wait_for(condition, timeout: float = 120.0, every: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(every)
    raise AssertionError("timed out")


def processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, process group) of every process on this machine."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(stat.parent.name)] = (int(fields[1]), int(fields[2]))
    return found


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def run_children(sweep_pid: int) -> list[int]:
    """The forked processes computing runs: the sweep's workers (copies of the sweep's process,
    which compute their runs themselves) once they compute a run."""
    table = processes()
    return [
        pid
        for pid, (parent, _) in table.items()
        if parent == sweep_pid and cmdline(pid) == cmdline(sweep_pid) != b""
    ]


def group_alive(group: int) -> bool:
    return any(pgid == group for _, pgid in processes().values())


def no_traceback(done: subprocess.CompletedProcess[str] | tuple[str, str]) -> None:
    out, err = (done.stdout, done.stderr) if hasattr(done, "stdout") else done
    assert "Traceback" not in err and "Traceback" not in out
    assert "leaked" not in err


def test_a_sweep_without_seed_and_with_a_failed_run_writes_its_report_then_exits_1(tmp_path):
    sweep_dir = tmp_path / "failed"
    done = sweep(sweep_dir, "years=1", "poverty.line=-1,4000")
    assert done.returncode == 1, done.stderr
    no_traceback(done)
    error = json.loads((sweep_dir / "0" / "error.json").read_text())
    assert error["type"] == "ConfigError" and "poverty.line" in error["message"]
    assert (sweep_dir / "1" / "summary.json").exists()
    assert (sweep_dir / "comparison" / "report.md").exists()
    assert (sweep_dir / "comparison" / "runs.csv").exists()
    assert "comparison of 1 runs of 2 planned (1 failed, 0 missing)" in done.stdout
    failed = [line for line in done.stderr.splitlines() if line.startswith("failed runs")]
    assert failed == [f"failed runs: 1; why: {sweep_dir / '0' / 'error.json'}"]
    plan = json.loads((sweep_dir / "sweep_plan.json").read_text())
    assert plan["fixed"] == ["population=small", "years=1"]
    assert plan["command"][-1] == f"hydra.sweep.dir={sweep_dir}"


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """Eight runs on one worker, interrupted by Ctrl-C once the first run has finished."""
    sweep_dir = tmp_path_factory.mktemp("sweeps") / "interrupted"
    args = ("years=1", "policy=none,all", "seed=range(0,4)", "hydra.launcher.n_jobs=1")
    process = start(sweep_dir, *args)
    wait_for(lambda: list(sweep_dir.glob("*/provenance.json")))
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return sweep_dir, process, out, err


def test_ctrl_c_stops_a_sweep_with_one_line_saying_how_to_resume_it(interrupted):
    sweep_dir, process, out, err = interrupted
    assert process.returncode == 130
    no_traceback((out, err))
    lines = err.strip().splitlines()
    assert len([line for line in lines if not line.startswith("sweep:")]) == 1, err
    assert "interrupted;" in lines[-1] and f"hydra.sweep.dir={sweep_dir}" in lines[-1]
    time.sleep(1.0)
    assert not group_alive(process.pid), "a worker outlived its sweep"


def test_resuming_an_interrupted_sweep_reuses_its_finished_runs(interrupted):
    sweep_dir, _, _, err = interrupted
    finished = {p.parent.name: p.read_bytes() for p in sweep_dir.glob("*/provenance.json")}
    assert finished and not list(sweep_dir.glob("*/error.json"))
    command = shlex.split(err.strip().splitlines()[-1].split("resume with: ", 1)[1])
    assert command[:4] == ["python", "-m", "sim", "-m"]
    done = subprocess.run(
        [sys.executable, *command[1:]], cwd=ROOT, capture_output=True, text=True, env=ENV
    )
    assert done.returncode == 0, done.stderr
    no_traceback(done)
    assert f"reused {len(finished)} runs finished earlier" in done.stdout
    for job, provenance in finished.items():
        assert (sweep_dir / job / "provenance.json").read_bytes() == provenance
    assert len(list(sweep_dir.glob("*/summary.json"))) == 8


def test_a_resume_checks_each_run_by_content(tmp_path):
    """A truncated summary, a changed config and changed code are recomputed, each said once."""
    sweep_dir = tmp_path / "resumed"
    args = ("years=1", "seed=range(0,4)")
    assert sweep(sweep_dir, *args).returncode == 0
    original = {p.parent.name: p.read_bytes() for p in sweep_dir.glob("*/summary.json")}
    summary = sweep_dir / "0" / "summary.json"
    summary.write_bytes(summary.read_bytes()[:40])  # a run killed while writing, say
    provenance = sweep_dir / "1" / "provenance.json"
    record = json.loads(provenance.read_text())
    record["config"]["poverty"]["line"] = 3000  # an earlier run of another config
    provenance.write_text(json.dumps(record))
    provenance = sweep_dir / "2" / "provenance.json"
    record = json.loads(provenance.read_text())
    record["code"]["sources_sha256"] = "0" * 64  # a run of earlier code
    provenance.write_text(json.dumps(record))

    done = sweep(sweep_dir, *args)
    assert done.returncode == 0, done.stderr
    no_traceback(done)
    assert "reused 1 runs finished earlier" in done.stdout
    assert "recomputed 1 runs (summary unreadable): jobs 0" in done.stdout
    assert "recomputed 1 runs (config changed): jobs 1" in done.stdout
    assert "recomputed 1 runs (code changed): jobs 2" in done.stdout
    assert {p.parent.name: p.read_bytes() for p in sweep_dir.glob("*/summary.json")} == original


def test_a_sweep_folder_holding_another_sweep_is_refused_and_kept(tmp_path):
    sweep_dir = tmp_path / "taken"
    assert sweep(sweep_dir, "years=1", "policy=none", "seed=0,1").returncode == 0
    before = {p.relative_to(sweep_dir): p.read_bytes() for p in sweep_dir.rglob("*.json")}
    done = sweep(sweep_dir, "years=1", "policy=all", "seed=0,1")
    assert done.returncode == 2
    no_traceback(done)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "holds another sweep" in lines[0] and "policy=all" in lines[0]
    assert {p.relative_to(sweep_dir): p.read_bytes() for p in sweep_dir.rglob("*.json")} == before


def test_a_run_killed_by_sigkill_is_one_failed_run(tmp_path):
    """As the out-of-memory killer does: the others go on, the report is written, exit 1.

    With one worker, each run is computed in a process forked for it from the launching process.
    """
    sweep_dir = tmp_path / "killed"
    process = start(sweep_dir, "years=10", "seed=range(0,4)", "hydra.launcher.n_jobs=1")
    victim = wait_for(lambda: run_children(process.pid))[0]
    os.kill(victim, signal.SIGKILL)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 1, err
    no_traceback((out, err))
    errors = [json.loads(p.read_text()) for p in sweep_dir.glob("*/error.json")]
    assert [(e["type"], e["signal"]) for e in errors] == [("Killed", 9)]
    assert "SIGKILL" in errors[0]["message"]
    assert len(list(sweep_dir.glob("*/summary.json"))) == 3
    assert "comparison of 3 runs of 4 planned (1 failed, 0 missing)" in out
    assert "failed runs: 1" in err
    assert not [p for p in sweep_dir.rglob("*") if ".tmp" in p.name]


def test_no_worker_outlives_a_sweep_killed_by_sigkill(tmp_path):
    process = start(tmp_path / "orphans", "years=10", "seed=range(0,6)", "hydra.launcher.n_jobs=2")
    wait_for(lambda: run_children(process.pid))
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    wait_for(lambda: not group_alive(process.pid), timeout=10.0, every=0.1)


def busy_worker(sweep_pid: int, sweep_dir: Path) -> int | None:
    """A worker of the sweep in the middle of a run: it holds the log of a job whose Hydra files
    are 0.05 s old (the run has begun; a run of 20,000 households takes several times that) and
    that has no summary yet. A worker killed before its run begins is replaced and its job given
    again: that is not the case tested here."""
    for pid in run_children(sweep_pid):
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = Path(os.readlink(fd))
            except OSError:
                continue
            run, hydra_files = target.parent, target.parent / ".hydra" / "overrides.yaml"
            if target.name != "main.log" or run.parent != sweep_dir or not hydra_files.exists():
                continue
            if time.time() - hydra_files.stat().st_mtime > 0.05:
                if not (run / "summary.json").exists():
                    return pid
    return None


def test_a_killed_worker_is_one_failed_run_and_a_new_worker_computes_the_rest(tmp_path):
    """The workers of two compute their runs themselves: a killed worker takes one run with it."""
    sweep_dir = tmp_path / "lost_worker"
    process = start(
        sweep_dir,
        "years=10",
        "population.households=20000",
        "seed=range(0,6)",
        "hydra.launcher.n_jobs=2",
    )
    os.kill(wait_for(lambda: busy_worker(process.pid, sweep_dir)), signal.SIGKILL)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 1, err
    no_traceback((out, err))
    errors = [json.loads(p.read_text()) for p in sweep_dir.glob("*/error.json")]
    assert [(e["type"], e["signal"]) for e in errors] == [("Killed", 9)]
    assert len(list(sweep_dir.glob("*/summary.json"))) == 5
    assert "comparison of 5 runs of 6 planned (1 failed, 0 missing)" in out
    assert not [p for p in sweep_dir.rglob("*") if ".tmp" in p.name]
    wait_for(lambda: not group_alive(process.pid), timeout=10.0, every=0.1)


def test_ctrl_c_stops_the_workers_of_a_sweep_and_its_resume_reuses_what_finished(tmp_path):
    sweep_dir = tmp_path / "interrupted_workers"
    args = ("years=3", "policy=none,all", "seed=range(0,6)", "hydra.launcher.n_jobs=2")
    process = start(sweep_dir, *args)
    wait_for(lambda: list(sweep_dir.glob("*/provenance.json")))
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    no_traceback((out, err))
    assert "interrupted;" in err.strip().splitlines()[-1]
    wait_for(lambda: not group_alive(process.pid), timeout=10.0, every=0.1)
    assert not list(sweep_dir.glob("*/error.json"))
    assert not [p for p in sweep_dir.rglob("*") if ".tmp" in p.name]
    unfinished = [
        p.parent
        for p in sweep_dir.glob("*/summary.json")
        if not (p.parent / "provenance.json").exists()
    ]
    assert not unfinished
    finished = len(list(sweep_dir.glob("*/provenance.json")))
    done = sweep(sweep_dir, *args)
    assert done.returncode == 0, done.stderr
    assert f"reused {finished} runs finished earlier" in done.stdout
    assert len(list(sweep_dir.glob("*/summary.json"))) == 12


def test_a_launcher_setting_out_of_range_is_one_line(tmp_path):
    for setting, allowed in (
        ("hydra.launcher.n_jobs=0", "must be a positive number of processes, or -1"),
        ("hydra.launcher.fork=3", "allowed true, false or null"),
    ):
        folder = tmp_path / setting.split(".")[-1].replace("=", "_")
        done = sweep(folder, "years=1", "seed=0,1", setting)
        assert done.returncode == 2, done.stderr
        no_traceback(done)
        assert done.stderr.strip().splitlines()[-1].startswith(f"error: {setting}: {allowed}")
        assert not list(folder.glob("*/summary.json"))
