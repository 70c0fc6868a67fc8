"""Run folders: temporary files of unfinished writes, and which earlier runs a resume may reuse."""

from __future__ import annotations

import json
import os

import pytest

from sim.cli import provenance
from sim.files import PROVENANCE_FILE, SUMMARY_FILE, atomic_write, temp_files

CONFIG = {"seed": 3, "years": 1, "poverty": {"line": 4000.0}}


def test_a_write_killed_midway_leaves_a_temporary_file_that_is_found_and_cleared(tmp_path):
    def killed_while_writing(tmp):
        tmp.write_text('{"seed": 3')
        os._exit(1)  # as SIGKILL: no exception handler runs

    pid = os.fork()
    if pid == 0:
        atomic_write(tmp_path / SUMMARY_FILE, killed_while_writing)
    os.waitpid(pid, 0)
    assert not (tmp_path / SUMMARY_FILE).exists()
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".summary.") and left[0].endswith(".tmp.json")
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / ".dashboard.ab12cd34.tmp.png").write_bytes(b"")
    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "config.yaml").write_text("seed: 3\n")
    assert sorted(p.name for p in temp_files(tmp_path)) == [".dashboard.ab12cd34.tmp.png", left[0]]
    provenance.clear_run(tmp_path)
    assert list(temp_files(tmp_path)) == []
    assert (tmp_path / ".hydra" / "config.yaml").exists()


def finished_run(folder, config=CONFIG):
    summary = dict.fromkeys(provenance.SUMMARY_KEYS, 0)
    (folder / SUMMARY_FILE).write_text(json.dumps(summary))
    provenance.write_provenance(folder, config=config, overrides=[], wall_time_s=1.0)


def test_a_finished_run_of_the_same_config_and_code_is_reused(tmp_path):
    finished_run(tmp_path)
    assert provenance.reuse_refusal(tmp_path, CONFIG) is None


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda f: (f / SUMMARY_FILE).unlink(), "not finished"),
        (lambda f: (f / SUMMARY_FILE).write_text('{"seed": 3, "hou'), "summary unreadable"),
        (lambda f: (f / SUMMARY_FILE).write_text("[1, 2]"), "summary unreadable"),
        (lambda f: (f / SUMMARY_FILE).write_text('{"seed": 3}'), "summary incomplete"),
        (lambda f: (f / PROVENANCE_FILE).unlink(), "no provenance"),
        (lambda f: finished_run(f, {**CONFIG, "years": 2}), "config changed"),
    ],
)
def test_a_run_that_cannot_stand_for_this_attempt_is_refused_with_its_reason(
    tmp_path, damage, reason
):
    finished_run(tmp_path)
    damage(tmp_path)
    assert provenance.reuse_refusal(tmp_path, CONFIG) == reason


def test_a_run_of_other_code_is_recomputed(tmp_path):
    finished_run(tmp_path)
    record = json.loads((tmp_path / PROVENANCE_FILE).read_text())
    assert record["code"] == provenance.code_version()
    record["code"]["sources_sha256"] = "0" * 64
    (tmp_path / PROVENANCE_FILE).write_text(json.dumps(record))
    assert provenance.reuse_refusal(tmp_path, CONFIG) == "code changed"


def test_the_code_version_hashes_the_package_sources():
    version = provenance.code_version()
    assert len(version["sources_sha256"]) == 64
    assert version["package"] == provenance.package_versions()["poverty-relapse-sim"]
