"""Run one scenario and write its outputs: ``run(cfg) -> RunResult``, no Hydra inside."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from sim.config import Config
from sim.engine.model import PovertyModel
from sim.engine.population import STATUS_NAMES
from sim.files import (
    HOUSEHOLDS_FILE,
    SUMMARY_FILE,
    TIMESERIES_FILE,
    atomic_write,
    atomic_write_text,
)
from sim.outcomes import summarize


@dataclass
class RunResult:
    """What a run produced: the summary, the monthly time series and the final households."""

    summary: dict[str, Any]
    timeseries: pd.DataFrame
    households: pd.DataFrame


def simulate(cfg: Config, *, progress: bool | None = None) -> PovertyModel:
    """Build the model for ``cfg`` and step it to the end of the run."""
    model = PovertyModel(cfg)
    show = cfg.output.progress if progress is None else progress
    # tqdm's delay keeps short runs silent: the bar appears only after two seconds.
    with tqdm(total=cfg.months, desc="months", unit="mo", delay=2.0, disable=not show) as bar:
        while not model.finished:
            model.step()
            bar.update()
    return model


def timeseries_table(model: PovertyModel) -> pd.DataFrame:
    """One row per month; the annual assessment's figures are repeated on each month of a year."""
    monthly = pd.DataFrame(model.monthly)
    annual = pd.DataFrame(model.annual).add_suffix("_year").rename(columns={"year_year": "year"})
    table = monthly.merge(annual, on="year", how="left", validate="many_to_one")
    table.insert(0, "date", pd.to_datetime(dict(year=table["year"], month=table["month"], day=1)))
    return table


def households_table(model: PovertyModel) -> pd.DataFrame:
    """One row per household at the end of the run."""
    s = model.state
    return pd.DataFrame(
        {
            "village": s.village,
            "size": s.size,
            "workers": s.workers,
            "initial_status": pd.Categorical.from_codes(s.initial_status, STATUS_NAMES),
            "status": pd.Categorical.from_codes(s.status, STATUS_NAMES),
            "per_capita_income": s.per_capita_income,
            "ever_relapsed": s.ever_relapsed,
            "savings": s.savings,
            "policy_received_yuan": model.ledger.received,
        }
    )


def run(cfg: Config) -> RunResult:
    """Simulate ``cfg`` and collect its results (no files written)."""
    model = simulate(cfg)
    metrics: dict[str, Any] = {}
    for policy in model.policies:
        metrics.update(policy.metrics())
    summary = summarize(
        seed=cfg.seed,
        households=model.state.count,
        years=cfg.years,
        annual=model.annual,
        relapse_cumulative=model.relapse_cumulative,
        cost_by_policy={p.name: model.ledger.cost(p.name) for p in model.policies},
        policy_metrics=metrics,
    )
    return RunResult(summary, timeseries_table(model), households_table(model))


def write_outputs(result: RunResult, output_dir: Path, *, household_table: bool = True) -> None:
    """Write the tables of a run; ``summary.json`` comes last and marks the run complete."""
    tables = {TIMESERIES_FILE: result.timeseries}
    if household_table:
        tables[HOUSEHOLDS_FILE] = result.households
    for name, table in tables.items():
        atomic_write(output_dir / name, partial(table.to_parquet, index=False))
    text = json.dumps(result.summary, indent=2) + "\n"
    atomic_write_text(output_dir / SUMMARY_FILE, text)
