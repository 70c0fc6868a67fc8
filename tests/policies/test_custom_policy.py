"""A researcher's own policy, enabled from config: the shipped example and one written here."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sim.config import compose
from sim.engine.model import PovertyModel
from sim.engine.state import ORANGE
from sim.params import ConfigError
from sim.run import run

EXAMPLE = ("+experiment=custom_policy", "population=small")
NAME = "colour_cash_transfer"

MY_POLICY = """
from dataclasses import dataclass

from sim.params import bounded
from sim.policies.base import Policy, PolicyConfig


@dataclass
class FlatGrantConfig(PolicyConfig):
    yuan: float = bounded(0.0, 1000.0)


class FlatGrant(Policy[FlatGrantConfig]):
    name = "flat_grant"
    config_type = FlatGrantConfig

    def step(self, ctx):
        ctx.ledger.transfer(self.name, np.arange(ctx.households), self.cfg.yuan)
"""


def test_the_example_pays_orange_and_red_households_within_its_yearly_limit(small):
    cfg = small(*EXAMPLE, "years=3", "seed=1")
    assert list(cfg.policies.custom) == [NAME]
    model = PovertyModel(cfg)
    assert [p.name for p in model.policies] == ["monitoring", NAME]  # custom ones act last
    policy, s = model.policy(NAME), model.state
    params = cfg.policies.custom[NAME].cfg
    while not model.finished:
        # payments so far this year (none before a January)
        before = policy.payments_this_year * (model.month_of_year > 0)
        model.step()
        paid = policy.payments_this_year > before
        assert (s.risk_colour[paid] >= ORANGE).all()
        assert (policy.payments_this_year <= params.months_per_year).all()
    assert policy.payments > 0
    per_payment = params.transfer_per_person_monthly * s.size
    assert model.ledger.paid[NAME] <= policy.payments * per_payment.max()
    assert model.ledger.overhead[NAME] == pytest.approx(
        policy.payments * params.admin_cost_per_payment
    )


def test_the_example_lowers_relapse_and_is_costed_in_the_summary(run_small):
    with_transfer, without = [], []
    for seed in range(3):
        common = (*EXAMPLE, f"seed={seed}", "years=4")
        with_transfer.append(run_small(*common, households=2000).summary)
        without.append(
            run_small(*common, f"policies.{NAME}.enabled=false", households=2000).summary
        )
    for on, off in zip(with_transfer, without, strict=True):
        # Monitoring never sees the transfer (it records the month before custom policies pay),
        # so assistance is the same and income only higher: no household relapses that would
        # not have (events can rise: a household kept above the line stays at risk next year).
        assert on["relapse_cumulative"] <= off["relapse_cumulative"]
        assert on["cost_by_policy_yuan"][NAME] > 0
        assert NAME not in off["cost_by_policy_yuan"]
        assert on["cost_total_yuan"] == pytest.approx(sum(on["cost_by_policy_yuan"].values()))
        assert on[f"{NAME}_payments"] > 0
    assert sum(s["relapse_cumulative"] for s in with_transfer) < sum(
        s["relapse_cumulative"] for s in without
    )


def test_a_disabled_custom_policy_changes_nothing(run_small):
    disabled = run_small(*EXAMPLE, "years=2", f"policies.{NAME}.enabled=false").summary
    monitoring = run_small("policy=monitoring", "years=2").summary
    assert disabled == monitoring


def test_a_policy_in_the_researchers_own_module(tmp_path, monkeypatch, small):
    (tmp_path / "my_policies.py").write_text("import numpy as np\n" + textwrap.dedent(MY_POLICY))
    monkeypatch.syspath_prepend(str(tmp_path))
    node = "+policies.flat_grant"
    cfg = small(f"{node}._target_=my_policies.FlatGrant", f"{node}.enabled=true", f"{node}.yuan=10")
    cfg.years = 1
    result = run(cfg)
    households = cfg.population.households
    assert result.summary["cost_by_policy_yuan"] == {"flat_grant": 10.0 * households * 12}
    assert result.households["policy_received_yuan"].to_numpy() == pytest.approx(120.0)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (f"+policies.{NAME}.colour=red", rf"^policies\.{NAME}\.colour: Key 'colour' not in"),
        (
            f"policies.{NAME}.transfer_per_person_monthly=lots",
            rf"^policies\.{NAME}\.transfer_per_person_monthly: Value 'lots'.*allowed \[0, 10000\]",
        ),
        (
            f"policies.{NAME}.months_per_year=13",
            rf"^policies\.{NAME}\.months_per_year=13 is out of range: allowed \[1, 12\]$",
        ),
        (f"policies.{NAME}.min_colour=green", rf"^policies\.{NAME}\.min_colour: Invalid value"),
        (
            f"policies.{NAME}.enabled=maybe",
            rf"^policies\.{NAME}\.enabled: Value 'maybe' is not a valid bool",
        ),
        (
            f"~policies.{NAME}.months_per_year",
            rf"^policies\.{NAME}\.months_per_year: .*missing mandatory value",
        ),
        (f"policies.{NAME}._target_=nowhere.Policy", rf"^policies\.{NAME}\._target_=.*import"),
        (f"policies.{NAME}._target_=numpy.ndarray", "is not a subclass of"),
        (f"policies.{NAME}._target_=sim.policies.workshops.Workshops", "is named 'workshops'"),
        ("+policies.workshops._target_=x.Y", r"^policies\.workshops\._target_: .*built-in"),
    ],
)
def test_bad_parameters_of_a_custom_policy_are_one_line_config_errors(override, message):
    with pytest.raises(ConfigError, match=message) as error:
        compose([*EXAMPLE, override])
    assert "\n" not in str(error.value)


def test_the_example_sweeps_in_worker_processes_from_any_folder(tmp_path):
    """Joblib's workers are fresh processes started outside the source tree: they import the
    policy from the experiments folder on their own."""
    sweep = tmp_path / "sweep"
    command = [
        sys.executable,
        "-m",
        "sim",
        "-m",
        *EXAMPLE,
        "years=1",
        "seed=0",
        "output.plots=false",
        "output.household_table=false",
        "hydra.launcher.n_jobs=2",
        f"hydra.sweep.dir={sweep}",
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    costs = [
        json.loads(path.read_text())["cost_by_policy_yuan"]
        for path in sorted(sweep.glob("*/summary.json"))
    ]
    assert len(costs) == 2
    assert [NAME in cost for cost in costs] == [False, True]  # enabled: false, then true
    assert np.isfinite(costs[1][NAME]) and costs[1][NAME] > 0
