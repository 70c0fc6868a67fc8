"""The per-agent Mesa baseline of the benchmark computes what the engine computes.

``benchmarks/mesa_agents.py`` re-implements the core household rules one agent at a time; its
speed is only worth comparing if it is the same model. Both are stepped side by side on the same
county and the same shock draws, and every household's income must agree each month.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import throughput
from benchmarks.mesa_agents import PerAgentModel
from sim.config import compose
from sim.engine.model import PovertyModel
from sim.engine.state import RELAPSED

MONTHS = 36


def side_by_side(*overrides: str) -> tuple[PovertyModel, PerAgentModel, list[float]]:
    """Step the engine and the per-agent model together; the largest income gap of each month.

    The engine's income of a month is earned income plus policy transfers (yuan).
    """
    cfg = compose(["population=small", "output.progress=false", *overrides])
    engine, agents = PovertyModel(cfg), PerAgentModel(cfg)
    gaps = []
    for _ in range(MONTHS):
        engine.step()
        agents.step()
        assert engine.month_draws is not None
        np.testing.assert_array_equal(agents.illness_u, engine.month_draws.illness_u)
        received = engine.state.income_month + engine.state.policy_transfers_month
        gap = np.abs(agents.column("income_month") - received)
        gaps.append(float(gap.max()))
    return engine, agents, gaps


@pytest.mark.parametrize("overrides", [("seed=0",), ("seed=5", "shocks=severe")])
def test_same_draws_give_the_same_households(overrides):
    engine, agents, gaps = side_by_side("policy=none", *overrides)
    s = engine.state

    assert max(gaps) <= 1e-9
    for name in ("per_capita_income", "savings"):
        np.testing.assert_allclose(agents.column(name), getattr(s, name), rtol=1e-12, atol=1e-9)
    for name in ("status", "ever_relapsed", "workers", "migrant_workers", "unemployed_migrants"):
        np.testing.assert_array_equal(agents.column(name), getattr(s, name))
    # Counts agree exactly, rates and indices to rounding (math.exp and numpy's exp may differ
    # in the last bit).
    assert len(agents.annual) == len(engine.annual)
    for mine, theirs in zip(agents.annual, engine.annual, strict=True):
        assert mine.keys() == theirs.keys()
        for key, value in theirs.items():
            assert mine[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    # The comparison covers every rule: shocks hit and households relapsed.
    monthly = engine.monthly
    assert sum(m["hospitalisations"] for m in monthly) > 0
    assert sum(m["serious_illnesses"] for m in monthly) > 0
    assert sum(m["households_hit_by_disaster"] for m in monthly) > 0
    assert sum(m["job_losses"] for m in monthly) > 0
    assert sum(m["retirements"] + m["labour_entries"] for m in monthly) > 0
    assert (s.status == RELAPSED).any()
    assert any(r["after_shocks_relapses_illness"] for r in engine.annual)
    assert any(r["relapses_withdrawal"] for r in engine.annual)


def test_a_policy_makes_the_engine_differ_from_the_baseline():
    _, _, gaps = side_by_side("policy=safety_net", "seed=0")

    assert max(gaps) > 1.0  # yuan: the safety net's top-ups are income the baseline lacks


def test_throughput_prints_its_figures(capsys):
    throughput.main(["--quick", "--months", "12", "--repeats", "1", "--agent-months", "1"])

    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    for key in (
        "household_months_per_s[10000]",
        "household_months_per_s[100000]",
        "household_months_per_s_mesa_agents[10000]",
        "ratio_vs_mesa_agents",
        "scaling_exponent",
    ):
        assert float(lines[key]) > 0, key
