"""Calibration targets: the statistics on hand-made and real run folders, and the file's checks."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.config import compose
from sim.engine.model import WAGE_POLICIES, people_median
from sim.engine.state import LIFTED
from sim.params import ConfigError
from sim.run import (
    RunResult,
    households_table,
    run_model,
    simulate,
    timeseries_table,
    write_outputs,
)
from sim.studies.targets import (
    STATISTICS,
    TARGETS_FILE,
    Target,
    load_targets,
    main,
    simulate_targets,
)

# -- a hand-made run folder: 2021 and 2022, twelve months each -------------------------------

HALF = 6  # the first six months of a year take the first value, the last six the second


def _halves(first: float, second: float) -> list[float]:
    return [first] * HALF + [second] * HALF


def _year(factor: float) -> dict[str, list[float]]:
    """One year's monthly columns; ``factor`` scales every figure (2022 differs from 2021)."""
    return {
        "people": [600] * 12,
        "lifted_people": [100] * 12,
        "lifted_income_yuan": [100_000 * factor] * 12,
        "income_per_capita_mean": _halves(12_000 * factor, 14_000 * factor),
        "income_per_capita_median": [9_000.0] * 11 + [11_050.0],  # the last complete year's
        "lifted_wage_income_yuan": [50_000 * factor] * 12,
        "lifted_policy_wage_yuan": [10_000 * factor] * 12,
        "lifted_wage_workers": _halves(30 * factor, 34 * factor),
        "migrant_workers": _halves(10 * factor, 20 * factor),
        "migrant_wage_yuan": _halves(45_000 * factor, 84_000 * factor),
        "hospitalisations": [6 * factor] * 12,
        "hospital_cost_yuan": _halves(60_000 * factor, 84_000 * factor),
        "safety_net_people": _halves(40 * factor, 56 * factor),
        "people_hit_by_disaster": [0.0] * 10 + [30 * factor, 18 * factor],
    }


@pytest.fixture
def hand_made(tmp_path):
    """A run folder written by hand: ``summary.json`` and a 24-month ``timeseries.parquet``."""
    years = {2021: _year(1.0), 2022: _year(2.0)}
    table = pd.concat(
        pd.DataFrame({"year": [y] * 12, "month": range(1, 13), **columns})
        for y, columns in years.items()
    )
    table.to_parquet(tmp_path / "timeseries.parquet", index=False)
    (tmp_path / "summary.json").write_text(json.dumps({"seed": 0, "years": 2}))
    return tmp_path


# Each statistic's value for 2021, computed by hand from the numbers of _year(1.0).
HAND_2021 = {
    "lifted_income_per_capita": 12 * 100_000 / 100,  # 12,000 yuan per person
    "county_income_per_capita": (12_000 + 14_000) / 2,
    "income_median_to_mean": 11_050 / 13_000,  # 0.85
    "lifted_wage_share": (12 * 50_000 + 12 * 10_000) / (12 * 100_000),  # 0.6
    "lifted_wage_work_share": (30 + 34) / 2 / 100,  # 0.32
    # pooled over migrant-months (6 x 45,000 + 6 x 84,000) / (6 x 10 + 6 x 20) = 4,300, not
    # the mean of the monthly averages (4,500 and 4,200)
    "migrant_monthly_wage": (6 * 45_000 + 6 * 84_000) / (6 * 10 + 6 * 20),
    "hospitalisations_per_person": 12 * 6 / 600,  # 0.12
    "inpatient_cost_per_admission": (6 * 60_000 + 6 * 84_000) / (12 * 6),  # 12,000 yuan
    "safety_net_people_share": (40 + 56) / 2 / 600,  # 0.08
    "disaster_affected_per_person": (30 + 18) / 600,  # 0.08
}


def test_every_statistic_has_a_hand_computed_case():
    assert set(HAND_2021) == set(STATISTICS)


@pytest.mark.parametrize("name", sorted(HAND_2021))
def test_statistic_on_hand_made_run_returns_hand_computed_value(hand_made, name):
    assert STATISTICS[name](hand_made, 2021) == pytest.approx(HAND_2021[name], rel=1e-12)


def test_statistics_read_only_their_year(hand_made):
    """2022's figures are 2021's doubled: every statistic is a ratio or a level accordingly."""
    levels = {
        "lifted_income_per_capita",  # income doubled, people not
        "county_income_per_capita",
        "hospitalisations_per_person",
        "safety_net_people_share",
        "disaster_affected_per_person",
        "lifted_wage_work_share",
    }
    for name, statistic in STATISTICS.items():
        expected = HAND_2021[name] * (2 if name in levels else 1)
        if name == "income_median_to_mean":  # the median stays, the mean doubles
            expected = HAND_2021[name] / 2
        assert statistic(hand_made, 2022) == pytest.approx(expected, rel=1e-12), name


def test_simulate_targets_gives_one_value_per_target(hand_made):
    targets = [
        Target("a", "migrant_monthly_wage", 2021, 4400, 3300, 4620, "S25", "fit", "note"),
        Target("b", "migrant_monthly_wage", 2022, 4400, 3300, 4620, "S25", "held_out", "note"),
    ]
    values = simulate_targets(hand_made, targets)
    assert values == pytest.approx({"a": 4300.0, "b": 4300.0})
    assert targets[0].covers(values["a"]) and not targets[0].covers(3000.0)


def test_statistic_refuses_a_year_the_run_did_not_simulate(hand_made):
    with pytest.raises(ValueError, match=r"year 2024 was not simulated \(years 2021-2022\)"):
        STATISTICS["county_income_per_capita"](hand_made, 2024)


def test_statistic_refuses_an_unfinished_run(hand_made):
    (hand_made / "summary.json").unlink()
    with pytest.raises(ValueError, match=r"no summary\.json: the run did not finish"):
        STATISTICS["county_income_per_capita"](hand_made, 2021)


def test_statistic_names_the_missing_column(hand_made):
    table = pd.read_parquet(hand_made / "timeseries.parquet").drop(columns="migrant_workers")
    table.to_parquet(hand_made / "timeseries.parquet", index=False)
    with pytest.raises(
        ValueError, match=r"timeseries\.parquet: cannot read .*migrant_workers"
    ) as e:
        STATISTICS["migrant_monthly_wage"](hand_made, 2021)
    assert "\n" not in str(e.value)


def test_statistic_refuses_a_file_that_is_not_parquet(hand_made):
    (hand_made / "timeseries.parquet").write_text("not a table\n")
    with pytest.raises(ValueError, match=r"timeseries\.parquet: cannot read") as e:
        STATISTICS["county_income_per_capita"](hand_made, 2021)
    assert "\n" not in str(e.value)


def test_people_median_is_the_median_person_household_income():
    # people below or at 1, 2, 3: 1, 2, 7 of 7; the fourth person lives at 3
    assert people_median(np.array([3.0, 1.0, 2.0]), np.array([5, 1, 1])) == 3.0
    # two households of two: the second person (half of four) lives at 10
    assert people_median(np.array([20.0, 10.0]), np.array([2, 2])) == 10.0
    assert people_median(np.zeros(0), np.zeros(0, np.int16)) == 0.0


# -- the targets file -------------------------------------------------------------------------

GOOD = {
    "name": "t1",
    "statistic": "county_income_per_capita",
    "year": 2021,
    "observed": 4.0,
    "low": 3.0,
    "high": 5.0,
    "source": "S27",
    "use": "fit",
    "note": "how it maps",
}


def _write(tmp_path, entries):
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump({"targets": entries}, allow_unicode=True))
    return path


def test_a_good_file_loads(tmp_path):
    (target,) = load_targets(_write(tmp_path, [{**GOOD, "tolerance_reason": "why"}]))
    assert target == Target(
        "t1", "county_income_per_capita", 2021, 4.0, 3.0, 5.0, "S27", "fit", "how it maps", "why"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"statistic": "nope"}, "target t1: statistic=nope is unknown; allowed lifted_income"),
        ({"low": 4.5}, "target t1: low=4.5 is above observed=4"),
        ({"high": 3.5}, "target t1: observed=4 is above high=3.5"),
        ({"year": 2031}, "target t1: year=2031 is outside the simulated years 2021-2030"),
        ({"year": 2020}, "target t1: year=2020 is outside the simulated years 2021-2030"),
        ({"year": "2021"}, "target t1: year='2021' is outside"),
        ({"observed": float("nan")}, "target t1: observed=nan is not a finite number"),
        ({"low": "low"}, "target t1: low='low' is not a finite number"),
        ({"use": "fitted"}, "target t1: use=fitted; allowed fit, held_out"),
        ({"source": "SOURCES"}, "target t1: source=SOURCES is not a SOURCES.md row id"),
        ({"note": ""}, "target t1: note must be a non-empty text"),
        ({"weight": 2}, "target t1: unknown key weight; allowed name, statistic"),
    ],
)
def test_load_targets_refuses_a_bad_entry(tmp_path, change, message):
    with pytest.raises(ConfigError) as refused:
        load_targets(_write(tmp_path, [{**GOOD, **change}]))
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("key", ["statistic", "year", "observed", "low", "high", "source", "use"])
def test_load_targets_names_a_missing_key(tmp_path, key):
    entry = {k: v for k, v in GOOD.items() if k != key}
    with pytest.raises(ConfigError, match=f"target t1: missing key {key}$"):
        load_targets(_write(tmp_path, [entry]))


def test_load_targets_refuses_a_name_used_twice(tmp_path):
    with pytest.raises(ConfigError, match="target t1: name used twice"):
        load_targets(_write(tmp_path, [GOOD, {**GOOD, "year": 2022}]))


def test_load_targets_names_an_unnamed_entry_by_position(tmp_path):
    entry = {k: v for k, v in GOOD.items() if k != "name"}
    with pytest.raises(ConfigError, match="target #2: missing key name"):
        load_targets(_write(tmp_path, [GOOD, entry]))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "cannot read the targets (FileNotFoundError)"),
        ("targets: [", "cannot read the targets"),
        ("- a list", "expected a mapping 'targets:' with a list of targets"),
        ("targets: []", "targets: the list is empty"),
        ("targets: [1]", "target #1: expected a mapping"),
    ],
)
def test_load_targets_refuses_a_bad_file(tmp_path, text, message):
    path = tmp_path / "targets.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_targets(path)
    assert str(refused.value).startswith(str(path)) and message in str(refused.value)


def test_shipped_targets():
    targets = load_targets()
    assert load_targets(TARGETS_FILE) == targets
    assert len(targets) >= 10
    assert len({t.name for t in targets}) == len(targets)
    uses = [t.use for t in targets]
    assert uses.count("fit") >= 8 and 1 <= uses.count("held_out") <= 2
    for t in targets:
        assert t.low <= t.observed <= t.high, t.name
        assert t.tolerance_reason, t.name  # no source below publishes an interval


# -- a real run --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def status_quo_run(tmp_path_factory):
    """A small county under the status quo, its model and its run folder (no household table)."""
    cfg = compose(["population=small", "policy=status_quo", "seed=1", "output.progress=false"])
    model = simulate(cfg)
    result = RunResult(run_model(model), timeseries_table(model), households_table(model))
    folder = tmp_path_factory.mktemp("run")
    write_outputs(result, folder, household_table=False)
    return model, result, folder


def test_shipped_targets_are_computable_on_a_real_run(status_quo_run):
    _, _, folder = status_quo_run
    assert not (folder / "households.parquet").exists()
    values = simulate_targets(folder, load_targets())
    assert all(math.isfinite(v) for v in values.values()), values
    for target in load_targets():
        value = values[target.name]
        if target.observed < 1:  # shares and rates (a small county may have no disaster)
            assert 0 <= value <= 1, (target.name, value)
        else:  # yuan
            assert value > 0, (target.name, value)


def test_calibration_figures_agree_with_the_other_outputs(status_quo_run):
    """The new columns against the summary, the household table and the ledger."""
    model, result, folder = status_quo_run
    series, summary = result.timeseries, result.summary
    years = sorted(series["year"].unique())
    people = series["people"].iloc[0]
    assert people == model.state.size.sum()
    # stays per person-year over the run, as the summary counts them
    per_year = [STATISTICS["hospitalisations_per_person"](folder, y) for y in years]
    assert np.mean(per_year) == pytest.approx(summary["hospitalisations_per_person_year"])
    # the safety net's people on the roll, as the policy counts them
    on_roll = series["safety_net_people"].mean() / people
    assert on_roll == pytest.approx(summary["safety_net_mean_people_share"], rel=1e-12)
    # the final year's incomes against the household table (its per-capita incomes)
    households = result.households
    income = households["per_capita_income"] * households["size"]
    lifted = (model.state.initial_status == LIFTED)[households["household_id"]]
    last = years[-1]
    assert STATISTICS["lifted_income_per_capita"](folder, last) == pytest.approx(
        income[lifted].sum() / households["size"][lifted].sum(), rel=1e-12
    )
    assert STATISTICS["county_income_per_capita"](folder, last) == pytest.approx(
        income.sum() / households["size"].sum(), rel=1e-12
    )
    order = households.sort_values("per_capita_income")
    median_person = (order["size"].cumsum() >= households["size"].sum() / 2).idxmax()
    december = series.loc[(series["year"] == last) & (series["month"] == 12)]
    assert (
        december["income_per_capita_median"].item() == order.loc[median_person, "per_capita_income"]
    )
    # from January to November the median is the previous year's (the 2020 incomes at first)
    first_months = series.loc[(series["year"] == last) & (series["month"] < 12)]
    before = series.loc[(series["year"] == last - 1) & (series["month"] == 12)]
    assert (
        first_months["income_per_capita_median"] == before["income_per_capita_median"].item()
    ).all()
    # what the wage policies paid the lifted households, as the ledger booked it
    initially_lifted = model.state.initial_status == LIFTED
    paid = sum(model.ledger.received_by[p][initially_lifted].sum() for p in WAGE_POLICIES)
    assert paid > 0
    assert series["lifted_policy_wage_yuan"].sum() == pytest.approx(paid, rel=1e-9)


def test_command_line_prints_each_target_against_the_runs(status_quo_run, capsys, tmp_path):
    _, _, folder = status_quo_run
    assert main([str(folder), str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + len(load_targets())
    assert lines[2].startswith("| `lifted_income_2021` | fit | 2021 | 12,459 [11,836, 13,082] |")
    assert main([str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error == f"error: {tmp_path}: no summary.json: the run did not finish\n"
