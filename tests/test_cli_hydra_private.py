"""Hydra's private API: used in one module only, and each use degrades when Hydra moves it."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser

from sim.cli import checks, hydra_private

SIM = Path(hydra_private.__file__).resolve().parents[1]
PRIVATE = "hydra._internal.core_plugins.basic_sweeper"


def test_no_other_module_of_sim_uses_hydras_private_api():
    users = sorted(
        str(path.relative_to(SIM.parent))
        for path in SIM.rglob("*.py")
        if re.search(r"hydra\._internal|from hydra import _internal", path.read_text())
    )
    assert users == ["sim/cli/hydra_private.py"]


def test_the_jobs_of_a_sweep_are_the_basic_sweepers_product_in_order():
    overrides = OverridesParser.create().parse_overrides(
        ["policy=none,all", "seed=range(0,3)", "population=small"]
    )
    jobs = hydra_private.job_overrides(overrides)
    assert jobs is not None and len(jobs) == 6
    assert jobs[0] == ["policy=none", "seed=0", "population=small"]
    assert jobs[4] == ["policy=all", "seed=1", "population=small"]


def test_without_hydras_private_parts_the_checks_and_the_plan_step_aside(monkeypatch):
    monkeypatch.setitem(sys.modules, "hydra._internal.utils", types.ModuleType("moved"))
    monkeypatch.setitem(sys.modules, PRIVATE, None)  # importing it raises ImportError
    assert hydra_private.parse_args(["seed=1", "seed=2"]) is None
    assert checks.command_line_error(["seed=1", "seed=2"]) is None  # Hydra's own messages then
    overrides = OverridesParser.create().parse_overrides(["seed=0,1"])
    assert hydra_private.job_overrides(overrides) is None  # no plan


def test_a_moved_basic_sweeper_is_found_where_hydras_config_points(monkeypatch):
    real = hydra_private.basic_sweeper()
    moved = types.ModuleType("moved_sweeper")
    moved.BasicSweeper = real  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "moved_sweeper", moved)
    monkeypatch.setitem(sys.modules, PRIVATE, None)
    stored = ConfigStore.load

    def load(store, path):  # Hydra's own config of its basic sweeper, pointing where it moved
        found = stored(store, path)
        if path == "hydra/sweeper/basic.yaml":
            found.node["_target_"] = "moved_sweeper.BasicSweeper"
        return found

    monkeypatch.setattr(ConfigStore, "load", load)
    assert hydra_private.basic_sweeper() is real
    assert hydra_private.is_basic_sweeper("moved_sweeper.BasicSweeper")


def test_representative_jobs_are_the_first_of_each_combination_of_group_options():
    jobs = [
        ["policy=none", "seed=0", "+experiment=x"],
        ["policy=none", "seed=1", "+experiment=x"],
        ["policy=all", "seed=0", "+experiment=x"],
        ["policy=all", "seed=1", "+experiment=x"],
    ]
    groups = {"policy", "experiment"}
    assert hydra_private.representative_jobs(jobs, groups.__contains__) == [jobs[0], jobs[2]]
    assert hydra_private.representative_jobs(jobs, lambda key: False) == [jobs[0]]


def planned_sweeper() -> type:
    """The planned sweeper as hydra_plugins.sim_cli defines it (made after Hydra's plugin scan,
    which makes Hydra's basic sweeper class anew)."""

    class PlannedSweeper(hydra_private.basic_sweeper()):  # type: ignore[misc]
        validate_batch_is_legal = hydra_private.validate_representative_jobs

    return PlannedSweeper


class _Loader:
    """A config loader that records which jobs' configs were composed."""

    def __init__(self) -> None:
        self.composed: list[list[str]] = []

    def get_group_options(self, key: str) -> list[str]:
        return ["all", "none"] if key == "policy" else []

    def load_sweep_config(self, master_config, sweep_overrides):
        self.composed.append(list(sweep_overrides))


def test_the_planned_sweeper_composes_one_job_per_combination_of_group_options():
    loader = _Loader()
    sweeper = planned_sweeper()(max_batch_size=None)
    sweeper.hydra_context = types.SimpleNamespace(config_loader=loader)
    sweeper.config = object()
    batch = [[f"policy={p}", f"seed={s}"] for p in ("none", "all") for s in range(10)]
    sweeper.validate_batch_is_legal(batch)
    assert loader.composed == [["policy=none", "seed=0"], ["policy=all", "seed=0"]]


def test_basic_sweepers_are_recognised_and_others_not():
    assert hydra_private.is_basic_sweeper(f"{PRIVATE}.BasicSweeper")
    sweeper = planned_sweeper()
    module = types.ModuleType("planned")
    module.PlannedSweeper = sweeper  # type: ignore[attr-defined]
    sys.modules["planned"] = module
    try:
        assert hydra_private.is_basic_sweeper("planned.PlannedSweeper")
    finally:
        del sys.modules["planned"]
    assert not hydra_private.is_basic_sweeper("hydra_plugins.sim_studies.RobustSweeper")
    assert not hydra_private.is_basic_sweeper("no.such.Sweeper")


def _loader_and_master(*overrides: str):
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    from sim.config import CONFIG_DIR

    context = initialize_config_dir(str(CONFIG_DIR), version_base="1.3")
    context.__enter__()
    loader = GlobalHydra.instance().config_loader()
    master = loader.load_configuration("config", list(overrides), RunMode.MULTIRUN)
    return context, loader, master


def test_jobs_composed_like_an_earlier_one_equal_hydras_own_composition():
    from omegaconf import OmegaConf

    context, loader, master = _loader_and_master("population=small", "hydra.sweep.dir=/tmp/x")
    try:
        compose = hydra_private.JobComposer(loader, master)
        jobs = [
            [f"seed={seed}", f"policy={policy}", f"poverty.line={line}", "years=2"]
            for policy in ("none", "all")
            for seed in (0, 7)
            for line in (4000, 4100.5)
        ]
        jobs += [
            ["seed=1", "+poverty.extra=5"],  # an addition: composed by Hydra
            ["seed=2", "+poverty.extra=5"],
            ["seed=3", "output.plots=false", "hydra.job.chdir=false"],  # a Hydra key
            ["seed=4", "output.plots=false", "hydra.job.chdir=false"],
            ["seed=5", "shocks=none", "policies.monitoring.enabled=true"],
            ["seed=6", "shocks=none", "policies.monitoring.enabled=true"],
        ]
        for job in jobs:
            copied, composed = compose(job), loader.load_sweep_config(master, job)
            assert OmegaConf.to_yaml(copied, resolve=False) == OmegaConf.to_yaml(composed), job
            assert OmegaConf.is_struct(copied) == OmegaConf.is_struct(composed)
        assert len(compose.composed) == 5  # none/all, the addition, the Hydra key, shocks=none
    finally:
        context.__exit__(None, None, None)


def test_a_config_file_is_read_once_and_each_reader_gets_its_own_copy(monkeypatch):
    (hydras,) = hydra_private.FileConfigSource.__bases__  # Hydra's own file source
    reads = []
    read = hydras.load_config
    monkeypatch.setattr(
        hydras, "load_config", lambda self, path: reads.append(path) or read(self, path)
    )
    hydra_private.read_config_files_once()
    context, loader, _ = _loader_and_master()
    try:
        source = next(s for s in loader.repository.sources if s.scheme() == "file")
        assert type(source) is hydra_private.FileConfigSource
        type(source).read.clear()
        reads.clear()
        first, second = source.load_config("config"), source.load_config("config")
        assert reads == ["config"]
        assert first.config == second.config and first.config is not second.config
        first.config.seed = 99
        assert source.load_config("config").config.seed == 0
    finally:
        context.__exit__(None, None, None)


def test_the_fast_yaml_of_a_config_reads_back_as_omegaconfs_own():
    import yaml
    from omegaconf import OmegaConf

    context, _, master = _loader_and_master("policy=all", "hydra.sweep.dir=/tmp/x")
    try:
        tricky = OmegaConf.create(
            {
                "looks_like": ["yes", "1.0", "null", "1_000", "~", "0x1F", "1e3", "on", ".inf"],
                "text": ["x: y", "multi\nline", "über", "${seed}", "", " lead", "#hash"],
                "long": "a" * 120 + " " + "b" * 50,
                "values": [1, 2.5, None, True, {"nested": "2026-01-01"}],
            }
        )
        for node in (master, master.hydra, master.hydra.overrides.task, tricky):
            fast, own = hydra_private.config_yaml(node), OmegaConf.to_yaml(node)
            assert yaml.safe_load(fast) == yaml.safe_load(own)
            assert OmegaConf.create(fast) == OmegaConf.create(own)
        task = OmegaConf.masked_copy(master, [k for k in master if k != "hydra"])
        assert hydra_private.config_yaml(task) == OmegaConf.to_yaml(task)  # same text too
    finally:
        context.__exit__(None, None, None)
