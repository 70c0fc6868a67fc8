"""Run one scenario and write its outputs: ``run(cfg) -> RunResult``, no Hydra inside."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import Config
from sim.engine.model import HOUSEHOLD_TYPES, PovertyModel
from sim.engine.population import STATUS_NAMES
from sim.files import (
    HOUSEHOLDS_FILE,
    SUMMARY_FILE,
    TIMESERIES_FILE,
    atomic_write,
    atomic_write_text,
)
from sim.outcomes import MEASURES, summarize


@dataclass
class RunResult:
    """What a run produced: the summary, the monthly time series and the final households."""

    summary: dict[str, Any]
    timeseries: pd.DataFrame
    households: pd.DataFrame


def simulate(cfg: Config, *, progress: bool | None = None) -> PovertyModel:
    """Build the model for ``cfg`` and step it to the end of the run."""
    model = PovertyModel(cfg)
    if not (cfg.output.progress if progress is None else progress):
        # No bar at all: a tqdm bar, even disabled, creates a multiprocessing lock that a run
        # in a forked process (a sweep's) would leave behind.
        while not model.finished:
            model.step()
        return model
    from tqdm import tqdm

    # tqdm's delay keeps short runs silent: the bar appears only after two seconds.
    with tqdm(total=cfg.months, desc="months", unit="mo", delay=2.0) as bar:
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
            "household_id": np.arange(s.count),
            "village": s.village,
            "size": s.size,
            "workers": s.workers,
            "initial_status": pd.Categorical.from_codes(s.initial_status, STATUS_NAMES),
            "status": pd.Categorical.from_codes(s.status, STATUS_NAMES),
            "per_capita_income": s.per_capita_income,
            "per_capita_after_shocks": s.per_capita_after_shocks,
            "below_income": s.below_income,
            "below_after_shocks": s.below_after_shocks,
            "household_type": pd.Categorical.from_codes(
                model.groups["household_type"][0], HOUSEHOLD_TYPES
            ),
            "chronic_illness": s.chronic_illness,
            "support_2020_yuan": s.support_2020,
            "relapse_events": model.relapse_events,
            "ever_relapsed": s.ever_relapsed,
            "savings": s.savings,
            "policy_received_yuan": model.ledger.received,
        }
    )


def run(cfg: Config) -> RunResult:
    """Simulate ``cfg`` and collect its results (no files written)."""
    model = simulate(cfg)
    return RunResult(run_model(model), timeseries_table(model), households_table(model))


def run_model(model: PovertyModel) -> dict[str, Any]:
    """The summary (``summary.json``) of a model stepped to the end of its run."""
    cfg = model.cfg
    metrics: dict[str, Any] = {}
    for policy in model.policies:
        metrics.update(policy.metrics())
    return summarize(
        seed=cfg.seed,
        households=model.state.count,
        years=cfg.years,
        headline=model.headline,
        annual=model.annual,
        cumulative={m: model.relapse_cumulative(m) for m in MEASURES},
        households_relapsed={m: model.households_relapsed(m) for m in MEASURES},
        cost_by_policy={p.name: model.ledger.cost(p.name) for p in model.policies},
        start_year=cfg.start_year,
        discount_rate=cfg.poverty.discount_rate,
        extra={
            "hospitalisations_per_person_year": model.hospitalisations_per_person_year,
            "by_group": model.by_group(),
            "targeting": model.targeting(),
        },
        policy_metrics=metrics,
    )


def write_outputs(result: RunResult, output_dir: Path, *, household_table: bool = True) -> None:
    """Write the tables of a run; ``summary.json`` comes last and marks the run complete."""
    tables = {TIMESERIES_FILE: result.timeseries}
    if household_table:
        tables[HOUSEHOLDS_FILE] = result.households
    for name, table in tables.items():
        atomic_write(output_dir / name, partial(table.to_parquet, index=False))
    try:
        text = json.dumps(result.summary, indent=2, allow_nan=False) + "\n"
    except ValueError:  # NaN or infinity: invalid JSON and a defect of the model, never written
        flat = pd.json_normalize(result.summary).iloc[0]
        bad = [f"{k}={v}" for k, v in flat.items() if isinstance(v, float) and not math.isfinite(v)]
        raise ValueError(f"{SUMMARY_FILE} not written: non-finite {', '.join(bad)}") from None
    atomic_write_text(output_dir / SUMMARY_FILE, text)
