"""The core model: determinism, common random numbers, shocks and accounting."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.cli.main import run_and_write
from sim.engine.model import Household, PovertyModel
from sim.outcomes import CAUSES


def test_same_seed_gives_identical_files_and_other_seeds_differ(small, tmp_path):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        cfg = small(f"seed={seed}", "years=4", "output.plots=false")
        run_and_write(cfg, tmp_path / name)
    summary = {name: (tmp_path / name / "summary.json").read_bytes() for name in "abc"}
    assert summary["a"] == summary["b"]
    assert summary["a"] != summary["c"]
    series = {name: pd.read_parquet(tmp_path / name / "timeseries.parquet") for name in "abc"}
    pd.testing.assert_frame_equal(series["a"], series["b"])
    assert not series["a"].equals(series["c"])


def test_no_shocks_under_the_2020_support_means_no_relapse_and_no_new_poverty(run_small):
    summary = run_small("shocks=none", "policy=status_quo", "years=5").summary
    assert summary["relapses_total"] == 0
    assert summary["relapse_rate"] == 0.0
    assert summary["newly_poor_total"] == 0


def test_doubling_illness_raises_relapse_and_its_illness_share(run_small):
    base, doubled = [], []
    for seed in range(3):
        common = (f"seed={seed}", "years=5")
        base.append(run_small(*common, households=3000).summary)
        doubled.append(
            run_small(*common, "shocks.hospitalisation_rate=0.276", households=3000).summary
        )
    assert sum(s["relapse_rate"] for s in doubled) > sum(s["relapse_rate"] for s in base)
    illness_share = [
        sum(s["relapses_by_cause"]["illness"] for s in runs)
        / sum(s["relapses_total"] for s in runs)
        for runs in (base, doubled)
    ]
    assert illness_share[1] > illness_share[0]


def test_causes_account_for_every_relapse_and_rates_are_shares(run_small):
    result = run_small("seed=1", "shocks=severe", "years=4")
    summary, series = result.summary, result.timeseries
    assert summary["relapses_total"] > 0
    assert sum(summary["relapses_by_cause"].values()) == summary["relapses_total"]
    assert set(summary["relapses_by_cause"]) == set(CAUSES)
    december = series[series["month"] == 12]
    assert december["relapses_year"].sum() == summary["relapses_total"]
    for key in ("relapse_rate", "relapse_cumulative", "new_poverty_rate", "headcount_ratio_final"):
        assert 0.0 <= summary[key] <= 1.0
    assert abs(sum(summary["relapse_cause_shares"].values()) - 1.0) < 1e-12
    share_columns = [c for c in series.columns if "rate" in c or "ratio" in c]
    assert ((series[share_columns] >= 0) & (series[share_columns] <= 1)).all().all()
    assert not series.isna().any().any()


def test_shocks_are_common_across_state_changes(small):
    """Shock draws depend on the seed only, not on the state the model is in."""
    cfg = small("seed=2")
    a, b = PovertyModel(cfg), PovertyModel(cfg)
    b.state.migrant_workers[:] = 0  # a very different labour market
    for _ in range(3):
        a.step()
        b.step()
    for field in ("illness_u", "illness_cost_z", "disaster_u", "job_loss_u", "reemployment_u"):
        np.testing.assert_array_equal(getattr(a.month_draws, field), getattr(b.month_draws, field))


def test_worker_counts_stay_consistent_through_shocks(small):
    model = PovertyModel(small("seed=4", "shocks=severe", "years=3"))
    s = model.state
    model.run()
    employed = s.farm_workers + s.local_workers + s.migrant_workers + s.unemployed_migrants
    np.testing.assert_array_equal(employed, s.workers)
    assert (s.sick_workers <= s.workers).all()
    assert (s.savings >= 0).all()


def test_household_views_read_the_arrays(small):
    model = PovertyModel(small("seed=3", "years=1"))
    model.run()
    views = model.households
    assert len(views) == model.state.count
    assert all(isinstance(agent, Household) for agent in views)
    mean = views.agg("per_capita_income", np.mean)
    assert mean == np.mean(model.state.per_capita_income)
    lifted = views.select(lambda agent: agent.status in ("lifted", "relapsed"))
    assert len(lifted) == int((model.state.initial_status == 0).sum())


def test_summary_has_the_output_contract_keys(small, tmp_path):
    run_and_write(small("years=2"), tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    for key in (
        "seed",
        "households",
        "years",
        "relapse_rate",
        "relapse_cumulative",
        "new_poverty_rate",
        "headcount_ratio_final",
        "relapses_by_cause",
        "cost_total_yuan",
        "cost_by_policy_yuan",
    ):
        assert key in summary
    assert (tmp_path / "plots" / "dashboard.png").stat().st_size > 10_000
    assert len(pd.read_parquet(tmp_path / "timeseries.parquet")) == 24


def test_result_files_are_complete_and_readable_by_others(small, tmp_path):
    """Files are written through a temporary file and a rename; none is left behind, and the
    results keep the usual permissions (a temporary file is created readable by its owner only).
    """
    run_and_write(small("years=1", "output.plots=false"), tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert not [name for name in files if name.startswith(".")]
    for name in ("summary.json", "timeseries.parquet"):
        assert (tmp_path / name).stat().st_mode & 0o044 == 0o044


def test_policy_lookup_names_the_enabled_policies(small):
    model = PovertyModel(small("policy=medical_relief"))
    assert model.policy("medical_relief").name == "medical_relief"
    with pytest.raises(KeyError, match="enabled: medical_relief"):
        model.policy("workshops")


def test_policies_see_the_model_through_their_context(small):
    """Hooks receive the narrow PolicyContext, whose calendar follows the model's."""
    model = PovertyModel(small("policy=monitoring", "years=2"))
    ctx, policy = model.policy_context, model.policy("monitoring")
    seen = []
    step = policy.step

    def recording_step(context):
        seen.append((context is ctx, context.year, context.month_of_year, context.month_index))
        step(context)

    policy.step = recording_step
    for _ in range(13):
        model.step()
    assert all(same for same, *_ in seen)
    assert seen[0][1:] == (2021, 0, 0) and seen[12][1:] == (2022, 0, 12)
    assert ctx.year_draws == model.year_draws
    assert ctx.monitoring_threshold == 1.5 * ctx.line
    assert not any(hasattr(ctx, name) for name in ("cfg", "shocks", "month_draws", "policies"))
