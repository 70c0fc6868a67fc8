"""``sim.compare`` on sweep folders it did not expect: every bad file is named, never trusted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_compare import make_sweep, policy_effect, write_run

from sim.analysis.compare import CompareError, build_report, main
from sim.analysis.validate import SIZE_CAPS, SUMMARY_SCHEMA, SUMMARY_SCHEMA_V2, check_summary

POLICY = {"policy": ["none", "all"]}


@pytest.fixture
def sweep(tmp_path) -> Path:
    """policy none/all x seeds 0-4: 10 valid runs, jobs 0-4 none, 5-9 all."""
    return make_sweep(tmp_path / "sweep", POLICY, policy_effect)


def compare(root: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """``python -m sim.compare`` in a process of its own, with a time limit: nothing may hang."""
    return subprocess.run(
        [sys.executable, "-m", "sim.compare", str(root), "--no-plots", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def compare_here(root: Path, capsys, *args: str) -> tuple[int, str, str]:
    """``python -m sim.compare`` in this process: exit status, stdout and stderr."""
    status = main([str(root), "--no-plots", *args])
    out, err = capsys.readouterr()
    return status, out, err


def report_text(root: Path) -> str:
    return (root / "comparison" / "report.md").read_text()


def set_summary(root: Path, job: int, **changes) -> None:
    path = root / str(job) / "summary.json"
    summary = json.loads(path.read_text())
    summary.update(changes)
    path.write_text(json.dumps(summary))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"relapse_rate": float("nan")}, "relapse_rate: nan is not a finite number"),
        ({"relapse_rate": "0.03"}, "relapse_rate: '0.03' is not a number"),
        ({"relapse_rate": None}, "relapse_rate: null is not a number"),
        ({"relapse_rate": 1.5}, "relapse_rate: 1.5 is outside [0, 1]"),
        ({"cost_total_yuan": float("inf")}, "cost_total_yuan: inf is not a finite number"),
        ({"relapses_total": 10**30}, "relapses_total: an integer of 31 digits is out of range"),
        ({"relapses_total": 3.5}, "relapses_total: 3.5 is not an integer"),
        ({"relapses_by_cause": [1, 2]}, "relapses_by_cause: [1, 2] is not an object"),
        (
            {"monitoring_flagged": {"a": {"b": {"c": {"d": 1}}}}},
            "monitoring_flagged.a.b.c: nested deeper than 4 levels",
        ),
        ({"seed": True}, "seed: true is not an integer"),
    ],
)
def test_a_summary_with_a_bad_value_makes_its_run_invalid_and_named(sweep, change, reason):
    set_summary(sweep, 6, **change)
    report = build_report(sweep, plots=False)
    assert report.used == 9 and len(report.invalid) == 1 and report.exit_status == 1
    summary = pd.read_csv(report.folder / "summary.csv").set_index("scenario")
    assert summary.loc["policy=all", ["n_seeds", "n_invalid", "n_pairs"]].tolist() == [4, 1, 4]
    text = report_text(sweep)
    assert "Runs used: **9** of 10 planned (0 failed, 0 missing, 1 invalid)" in text
    assert f"- job 6 (policy=all seed=1), `6`: summary.json: {reason}" in text
    assert f"- `6/summary.json`: {reason}" in text


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"seed": 0, "households": 6', "not JSON (Expecting"),
        (b"", "not JSON (Expecting value"),
        (b"\xff\xfe{}", "not UTF-8 (byte 0)"),
        (b"[1, 2]", "not a JSON object but list"),
        (b'{"seed": 0}', "lacks households, years, relapse_rate"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (b'{"relapses_total": 1' + b"0" * 5000 + b"}", "not JSON (Exceeds the limit"),
    ],
    ids=["truncated", "empty", "not-utf8", "list", "lacks-keys", "deep", "huge-int-literal"],
)
def test_an_unreadable_summary_is_invalid_not_missing(sweep, capsys, content, reason):
    (sweep / "3" / "summary.json").write_bytes(content)
    status, out, _ = compare_here(sweep, capsys)
    assert status == 1
    assert "1 invalid; 1 file or folder skipped, named in the report" in out
    assert f"- `3/summary.json`: {reason}" in report_text(sweep)
    runs = pd.read_csv(sweep / "comparison" / "runs.csv").set_index("job")
    assert runs.loc[3, "status"] == "invalid"


def test_a_fifo_named_summary_is_refused_without_hanging(sweep):
    (sweep / "2" / "summary.json").unlink()
    os.mkfifo(sweep / "2" / "summary.json")
    done = compare(sweep, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "- `2/summary.json`: not a regular file (a FIFO)" in report_text(sweep)


def test_a_summary_linked_to_dev_zero_is_refused_without_reading_it(sweep):
    (sweep / "2" / "summary.json").unlink()
    (sweep / "2" / "summary.json").symlink_to("/dev/zero")
    done = compare(sweep, timeout=60)
    assert done.returncode == 1
    assert "- `2/summary.json`: a link to /dev/zero, outside the sweep folder" in report_text(sweep)


def test_a_device_inside_the_folder_and_an_oversized_summary_are_refused(sweep):
    (sweep / "2" / "summary.json").unlink()
    (sweep / "2" / "summary.json").mkdir()
    with (sweep / "4" / "summary.json").open("r+b") as sparse:  # no disk used: a sparse file
        sparse.truncate(SIZE_CAPS["summary.json"] + 1)
    report = build_report(sweep, plots=False)
    reasons = dict(report.skipped)
    assert reasons["2/summary.json"] == "not a regular file (a folder)"
    assert reasons["4/summary.json"] == "52,428,801 bytes, over the limit of 52,428,800"
    assert report.used == 8


def test_a_summary_linked_to_a_file_outside_the_sweep_is_refused(sweep, tmp_path):
    outside = tmp_path / "elsewhere.json"
    shutil.copy(sweep / "1" / "summary.json", outside)
    (sweep / "1" / "summary.json").unlink()
    (sweep / "1" / "summary.json").symlink_to(outside)
    report = build_report(sweep, plots=False)
    assert dict(report.skipped)["1/summary.json"] == (
        f"a link to {outside.resolve()}, outside the sweep folder"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"- policy=none\n- seed=\xff\n", "not UTF-8 (byte 21)"),
        (b"policy: none\n", "the content is not a list of strings"),
        (b"- [policy=none]\n", "the content is not a list of strings"),
        (b"- policy=none\n  - seed: [\n", "not YAML"),
        (b"", "the content is not a list of strings"),
    ],
    ids=["not-utf8", "mapping", "nested", "bad-yaml", "empty"],
)
def test_bad_overrides_skip_the_folder_and_name_it(sweep, content, reason):
    (sweep / "0" / ".hydra" / "overrides.yaml").write_bytes(content)
    report = build_report(sweep, plots=False)
    assert dict(report.skipped)["0/.hydra/overrides.yaml"].startswith(reason)
    assert report.used == 9 and len(report.missing) == 1 and report.exit_status == 1
    assert "- job 0 (policy=none seed=0), no folder" in report_text(sweep)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"runs": [["policy=none"', "not JSON"),
        (b'{"runs": "policy=none"}', "runs: absent or not a list"),
        (b'{"runs": [["policy=none", 5]]}', "runs[0] is not a list of strings"),
        (b'{"runs": [], "command": "python -m sim"}', "command is not a list of strings"),
        (b"[]", "not a JSON object but list"),
    ],
)
def test_a_malformed_plan_is_named_and_the_runs_are_still_compared(sweep, capsys, content, reason):
    (sweep / "sweep_plan.json").write_bytes(content)
    status, out, _ = compare_here(sweep, capsys)
    assert status == 1
    assert "comparison of 10 runs (0 failed, 0 missing; 1 file or folder skipped" in out
    text = report_text(sweep)
    assert f"- `sweep_plan.json`: {reason}" in text
    assert "No valid `sweep_plan.json`: missing runs cannot be told" in text


@pytest.mark.parametrize("kind", ["file", "link"])
def test_comparison_that_is_not_a_folder_is_one_line_and_exit_2(sweep, tmp_path, capsys, kind):
    (tmp_path / "elsewhere").mkdir()
    if kind == "file":
        (sweep / "comparison").write_text("notes")
    else:
        (sweep / "comparison").symlink_to(tmp_path / "elsewhere")
    status, _, err = compare_here(sweep, capsys)
    assert status == 2
    assert err.strip() == (
        f"error: {sweep / 'comparison'} exists and is not a folder: move it away and run again"
    )
    assert not list((tmp_path / "elsewhere").iterdir())


def test_a_parent_folder_of_several_sweeps_is_refused_naming_them(tmp_path, capsys):
    for name in ("a", "b", "c"):
        make_sweep(tmp_path / "parent" / name, POLICY, policy_effect)
    status, _, err = compare_here(tmp_path / "parent", capsys)
    assert status == 2
    assert err.strip() == (
        f"error: {tmp_path / 'parent'} holds 3 sweeps, not one (a, b, c): compare each of them"
    )


def test_a_parent_folder_of_runs_without_plans_counts_every_folder(tmp_path):
    """Two copies of the same runs: the second copy is named as skipped, never silently used."""
    for name in ("a", "b"):
        make_sweep(tmp_path / "parent" / name, POLICY, policy_effect)
        (tmp_path / "parent" / name / "sweep_plan.json").unlink()
    report = build_report(tmp_path / "parent", plots=False)
    assert report.used == 10 and report.planned is None and len(report.skipped) == 10
    assert dict(report.skipped)["b/3"] == "same overrides as folder a/3: not used"
    assert "10 files or folders skipped" in report.describe()
    assert "every run folder found is a run" in report_text(tmp_path / "parent")


def test_folders_outside_the_plan_and_second_copies_are_named(sweep):
    shutil.copytree(sweep / "3", sweep / "3-copy")
    write_run(
        sweep / "extra",
        ["policy=safety_net", "seed=0"],
        json.loads((sweep / "0" / "summary.json").read_text()),
    )
    make_sweep(sweep / "nested", POLICY, policy_effect)
    report = build_report(sweep, plots=False)
    assert report.used == 10
    assert dict(report.skipped) == {
        "3-copy": "same overrides as job 3 (folder 3): not used",
        "extra": "not in the sweep's plan: not used",
        "nested": "another sweep (its own sweep_plan.json): not read",
    }


def test_run_folders_outside_the_sweep_folder_are_refused_and_named(sweep, tmp_path):
    shutil.move(sweep / "8", tmp_path / "away")
    (sweep / "8").symlink_to(tmp_path / "away")
    shutil.move(sweep / "9", tmp_path / "escape_9")
    hydra = {"hydra": {"sweep": {"dir": str(sweep), "subdir": "../escape_${hydra.job.num}"}}}
    (sweep / "multirun.yaml").write_text(yaml.safe_dump(hydra))
    report = build_report(sweep, plots=False)
    assert report.used == 8 and len(report.missing) == 2 and report.exit_status == 1
    reasons = dict(report.skipped)
    assert (
        reasons["8"]
        == f"a link to {(tmp_path / 'away').resolve()}, outside the sweep folder: not followed"
    )
    assert reasons["../escape_9"] == (
        "run folder of job 9, outside the sweep folder "
        "(hydra.sweep.subdir=../escape_${hydra.job.num}): not read"
    )


def test_a_malformed_error_record_still_counts_the_run_as_failed(tmp_path):
    root = make_sweep(tmp_path, POLICY, policy_effect, fail={2, 3})
    (root / "2" / "error.json").write_text("{not json")
    (root / "3" / "error.json").write_text(json.dumps({"type": 5, "message": "x"}))
    report = build_report(root, plots=False)
    assert len(report.failed) == 2
    text = report_text(root)
    assert "`2`: error.json not readable: not JSON" in text
    assert "`3`: error.json not readable: type: 5 is not a string" in text


def test_a_malformed_config_is_named_when_the_default_baseline_needs_it(tmp_path):
    root = make_sweep(tmp_path, {"policies.safety_net.enabled": [True, False]}, policy_effect_flag)
    (root / "0" / ".hydra" / "config.yaml").write_text("policies: [")
    report = build_report(root, plots=False)
    assert dict(report.skipped)["0/.hydra/config.yaml"].startswith("not YAML")
    summary = pd.read_csv(report.folder / "summary.csv")
    assert summary["is_baseline"].tolist() == [False, True]


def policy_effect_flag(setting, seed):
    return policy_effect(
        {"policy": "all" if setting["policies.safety_net.enabled"] else "none"}, seed
    )


def test_a_folder_without_runs_or_a_bad_baseline_exits_2_in_one_line(tmp_path, sweep):
    (tmp_path / "empty").mkdir()
    for root, args in ((tmp_path / "empty", ()), (sweep, ("--baseline", "policy=other"))):
        done = compare(root, *args)
        assert done.returncode == 2
        assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error:")
    done = compare(sweep, "--no-such-option")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1


def test_exit_status_is_0_only_when_every_run_is_used(sweep, tmp_path):
    assert main([str(sweep), "--no-plots"]) == 0
    (sweep / "7" / "summary.json").unlink()
    assert main([str(sweep), "--no-plots"]) == 1
    (tmp_path / "nothing").mkdir()
    assert main([str(tmp_path / "nothing")]) == 2
    with pytest.raises(CompareError, match="no runs"):
        build_report(tmp_path / "nothing")


def test_a_real_summary_passes_the_checks_and_the_schema_lists_its_keys(run_small):
    """The schema is that of the model's summaries: it refuses none (policies' figures too)."""
    summary = json.loads(json.dumps(run_small("policy=all", "years=1").summary))
    assert check_summary(summary) is summary
    base = run_small("policy=none", "years=1").summary
    assert set(SUMMARY_SCHEMA) | set(SUMMARY_SCHEMA_V2) == set(base)
