"""Refusals of the real command line: one line on stderr naming the key or path and what is
allowed, exit status 2, no traceback, nothing computed or half-written."""

from __future__ import annotations

import errno
import importlib.util
import os
import resource
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

import sim.cli.main
import sim.run
from sim.cli import checks

ROOT = Path(__file__).resolve().parent.parent
SMALL = ("population=small", "years=1")


def run_cli(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)},
        **kwargs,
    )


def assert_one_line(done: subprocess.CompletedProcess[str], *named: str) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for text in named:
        assert text in lines[0]
    return lines[0]


GRAMMAR = "overrides are KEY=VALUE"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["seed=[1,2"], ["seed=[1,2", GRAMMAR]),
        (["foo"], ["foo: not an override", GRAMMAR]),
        (["=5"], ["=5: no key before '='", GRAMMAR]),
        (["seed=${nokey}"], ["seed=${nokey}", "'nokey' not found"]),
        (["seed=${oc.env:NOPE}"], ["seed=${oc.env:NOPE}", "'NOPE' not found"]),
        (["+poverty.extra=5"], ["+poverty.extra=5", "allowed under poverty: line, monitoring"]),
        (["poverty=5"], ["poverty=5: poverty is a group of keys", "poverty.line="]),
        (["seed=1", "seed=2"], ["seed is given 2 times (seed=1 seed=2)", "give each key once"]),
        (["policy=5"], ["policy=5", "allowed policy: all"]),
        (
            ["-m", "hydra.sweep.subdir=../escape_${hydra.job.num}", "seed=0,1"],
            ["hydra.sweep.subdir=../escape_${hydra.job.num}", "inside the sweep folder"],
        ),
        (["-m", "hydra/launcher=slurm", "seed=0,1"], ["hydra/launcher=slurm", "sbatch"]),
        (["seed=0,1", "-m"], ["population=small: not expected here", "options go before"]),
    ],
)
def test_bad_command_lines_stop_with_one_line_before_anything_runs(tmp_path, args, named):
    if "hydra/launcher=slurm" in args and shutil.which("sbatch"):
        pytest.skip("Slurm is installed here")
    done = run_cli(*args, *SMALL, cwd=tmp_path)
    assert_one_line(done, *named)
    assert not (tmp_path / "outputs").exists() and not (tmp_path / "multirun").exists()
    assert not any(tmp_path.parent.glob("escape_*"))


def test_a_launcher_that_is_not_installed_says_what_to_install(tmp_path):
    if importlib.util.find_spec("ray") is not None:
        pytest.skip("Ray is installed here")
    done = run_cli("-m", *SMALL, "hydra/launcher=ray_cluster", "seed=0,1", cwd=tmp_path)
    assert_one_line(done, "hydra/launcher=ray_cluster", "ray", "pip install")
    assert not (tmp_path / "multirun").exists()


def test_run_folders_that_cannot_be_written_are_refused(tmp_path):
    occupied = tmp_path / "occupied"
    occupied.write_text("a file, not a folder\n")
    done = run_cli(*SMALL, f"hydra.run.dir={occupied}", cwd=tmp_path)
    assert_one_line(done, f"hydra.run.dir={occupied}", "is a file, not a folder")
    done = run_cli(*SMALL, f"hydra.run.dir={occupied}/run", cwd=tmp_path)
    assert_one_line(done, f"hydra.run.dir={occupied}/run", "is a file, not a folder")
    done = run_cli("-m", *SMALL, "seed=0,1", f"hydra.sweep.dir={occupied}", cwd=tmp_path)
    assert_one_line(done, f"hydra.sweep.dir={occupied}", "is a file, not a folder")
    assert occupied.read_text() == "a file, not a folder\n"


def _mount_tmpfs(folder: Path, options: str) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small file system needs root")
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


@pytest.fixture
def tmpfs(tmp_path):
    """A 1 MiB file system, or a skip where this machine cannot mount one."""
    folder = tmp_path / "tmpfs"
    _mount_tmpfs(folder, "size=1m")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_run_folder_is_refused(tmp_path):
    folder = tmp_path / "read_only"
    if os.geteuid() != 0:  # a folder without write permission stops anyone but root
        folder.mkdir()
        folder.chmod(0o555)
    else:
        _mount_tmpfs(folder, "size=1m,ro")
    try:
        done = run_cli(*SMALL, f"hydra.run.dir={folder}/run", cwd=tmp_path)
        assert_one_line(done, f"hydra.run.dir={folder}/run", "not writable")
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_stops_the_run_with_one_line_and_removes_its_partial_files(tmpfs):
    filler = tmpfs / "filler"
    filler.write_bytes(b"\0" * (1024 * 1024 - 48 * 1024))  # room for Hydra's files, not the run's
    done = run_cli(*SMALL, f"hydra.run.dir={tmpfs}/run", cwd=tmpfs.parent)
    line = assert_one_line(done, "No space left on device", "hydra.run.dir=")
    assert str(tmpfs / "run") in line
    run_dir = tmpfs / "run"
    left = {p.name for p in run_dir.rglob("*")} if run_dir.exists() else set()
    assert not left & {"summary.json", "timeseries.parquet", "households.parquet"}
    assert not [name for name in left if ".tmp" in name]


def test_a_full_disk_in_the_writer_removes_what_was_written(tmp_path, monkeypatch, capsys):
    """The same without a small file system: the writer fails after its first table."""
    real = sim.run.atomic_write
    written = []

    def fill_disk_after_one_file(path, write):
        if written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(path)
        real(path, write)

    monkeypatch.setattr(sim.run, "atomic_write", fill_disk_after_one_file)
    monkeypatch.setattr(sys, "argv", ["sim"])
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
    run_dir = tmp_path / "run"
    with pytest.raises(SystemExit) as exited:
        sim.cli.main.cli([*SMALL, "output.plots=false", f"hydra.run.dir={run_dir}"])
    assert exited.value.code == 2
    assert written and not written[0].exists()  # the table written first is removed too
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0], lines
    assert not {p.name for p in run_dir.iterdir()} & {"summary.json", "timeseries.parquet"}


def test_a_population_too_large_for_memory_is_refused_before_allocating(tmp_path):
    limit = 4 * 2**30  # a 4 GiB address space: 10 M households need about 6 GiB

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = run_cli(
        "population.households=10000000",
        "years=1",
        f"hydra.run.dir={tmp_path}/run",
        cwd=tmp_path,
        preexec_fn=limit_memory,
    )
    line = assert_one_line(done, "population.households=10000000", "GiB are available")
    assert f"{checks.BYTES_PER_HOUSEHOLD} bytes per household" in line
    assert not (tmp_path / "run" / "summary.json").exists()


def test_the_memory_estimate_covers_a_run_and_is_not_far_above_it(small):
    """Peak bytes traced while a run of 20,000 households runs and writes its tables."""
    households = 20_000
    cfg = small(f"population.households={households}", "years=2", "policy=all")
    tracemalloc.start()
    try:
        result = sim.run.run(cfg)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.summary["households"] == households
    assert peak / households <= checks.BYTES_PER_HOUSEHOLD
    assert peak / households >= checks.BYTES_PER_HOUSEHOLD / 2
    assert checks.memory_needed(households) < checks.available_memory()
    assert checks.memory_error(households) is None
