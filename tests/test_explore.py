"""The explorer without a browser: its controls, its model, its charts and its command line."""

from __future__ import annotations

import dataclasses
import json
import shlex
import subprocess
import sys

import pytest

from sim.config import compose
from sim.explore import charts, controls
from sim.explore.model import BASELINE, CHOSEN, ExplorerModel
from sim.params import ConfigError
from sim.policies import REGISTRY

SMALL = {"population": "small", "years": 2}


def test_every_registered_policy_has_a_switch_and_its_dose_a_slider():
    keys = {c.key for c in controls.controls()}
    cfg = compose([])
    nodes = {name: controls.policy_config(cfg, name) for name in REGISTRY}
    names = [[f.name for f in dataclasses.fields(node)] for node in nodes.values()]
    shared = set(names[0]).intersection(*names[1:])  # the switch and the calendar
    for name, node in nodes.items():
        assert f"policies.{name}.enabled" in keys
        own = [
            f.name
            for f in dataclasses.fields(node)
            if "lo" in f.metadata
            and not isinstance(getattr(node, f.name), bool)
            and f.name not in shared
        ]
        assert f"policies.{name}.{own[0]}" in keys, name
        assert not any(
            key.startswith(f"policies.{name}.{s}") for key in keys for s in shared - {"enabled"}
        )
    assert set(controls.SHOCKS) <= keys


def test_every_slider_starts_at_its_default_on_its_grid_and_both_ends_are_allowed():
    sliders = [c for c in controls.controls() if c.step is not None]
    for c in sliders:
        assert c.lo <= c.default <= c.hi, c
        steps = (c.default - c.lo) / c.step
        assert steps == pytest.approx(round(steps), abs=1e-6), c
    compose([f"{c.key}={c.text(c.lo)}" for c in sliders])
    compose([f"{c.key}={c.text(c.hi)}" for c in sliders])


def test_the_command_line_composes_the_config_the_explorer_runs():
    settings = {
        "policies.medical_relief.enabled": True,
        "policies.medical_relief.oop_cap_yuan": 3000.0,
        "shocks.hospitalisation_rate": 0.2,
        "seed": 7,
        **SMALL,
    }
    model = ExplorerModel(**settings)
    command = shlex.split(model.command_line)
    assert command[:3] == ["python", "-m", "sim"]
    assert "policies.medical_relief.oop_cap_yuan=3000" in command
    assert compose(command[3:]) == model.cfg
    assert model.cfg.policies.medical_relief.enabled and model.cfg.seed == 7


def test_defaults_give_the_plain_command_and_an_unknown_setting_is_refused():
    assert controls.command_line(controls.settings_of({})) == "python -m sim"
    with pytest.raises(ConfigError, match=r"policies\.medical\.enabled: no such control"):
        ExplorerModel(**{"policies.medical.enabled": True})


def test_compare_runs_the_baseline_on_the_same_shocks_and_reports_the_paired_difference():
    model = ExplorerModel(compare=True, **{"policies.medical_relief.enabled": True, **SMALL})
    assert model.baseline is not None and not model.baseline.policies
    for _ in range(model.cfg.months):
        model.step()
    for chosen, base in zip(model.chosen.monthly, model.baseline.monthly, strict=True):
        for shock in ("hospitalisations", "disaster_villages", "households_hit_by_disaster"):
            assert chosen[shock] == base[shock]  # common random numbers
    difference = model.difference()
    headcount = model.headcount().pivot(index="date", columns="run", values="headcount_pct")
    assert difference["headcount_pp"].to_numpy() == pytest.approx(
        (headcount[CHOSEN] - headcount[BASELINE]).to_numpy()
    )
    final = difference["relapses_so_far"].iloc[-1]
    by_hand = sum(r["relapses"] for r in model.chosen.annual) - sum(
        r["relapses"] for r in model.baseline.annual
    )
    assert final == by_hand
    assert f"relapse events {by_hand:+,}" in model.status()[-1]


def test_the_run_stops_at_its_horizon():
    model = ExplorerModel(**{**SMALL, "years": 1})
    for _ in range(12):
        assert model.running
        model.step()
    assert not model.running
    model.step()
    assert len(model.months_seen) == 12 and len(model.chosen.annual) == 1


def test_the_explorer_runs_the_scenario_of_the_command_line():
    from sim.run import run

    model = ExplorerModel(**{"policies.safety_net.enabled": True, **SMALL})
    while model.running:
        model.step()
    summary = run(compose(shlex.split(model.command_line)[3:])).summary
    assert [r["relapse_rate"] for r in model.chosen.annual] == list(
        summary["relapse_rate_by_year"].values()
    )


def test_every_chart_is_json_for_the_browser_in_every_mode():
    monitored = {"policies.monitoring.enabled": True, "policies.training.enabled": True}
    for model in (
        ExplorerModel(**SMALL),
        ExplorerModel(compare=True, **monitored, **SMALL),
    ):
        options = [chart(table(model)) for _, chart, table in charts.PANELS]  # before a step
        for _ in range(14):
            model.step()
        options += [chart(table(model)) for _, chart, table in charts.PANELS]
        for option in options:
            json.dumps(option, allow_nan=False)
    spending = charts.spending_chart(model.spending_by_policy())
    assert {s["name"] for s in spending["series"]} == {"monitoring", "training"}
    assert len(spending["xAxis"]["data"]) == 14


def test_the_benchmark_command_prints_the_time_of_a_month():
    done = subprocess.run(
        [sys.executable, "-m", "sim.explore", "--benchmark", "3"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "20,000 households" in done.stdout and "ms a month" in done.stdout


def test_a_bad_port_is_one_line_and_exit_2():
    done = subprocess.run(
        [sys.executable, "-m", "sim.explore", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --port 70000: allowed 0 to 65535"
