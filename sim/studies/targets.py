"""Calibration targets as data, and the statistic that simulates each from a run folder.

A target (``configs/targets/calibration.yaml``, :func:`load_targets`) names an observed figure of
a SOURCES.md row, the calendar year it describes, its interval ``[low, high]`` (a stated tolerance
with its reason where the source gives none) and the **statistic**: a function of this module
(:data:`STATISTICS`) that computes the same quantity from a run's own files, so that a reader can
recompute every simulated value. ``use: fit`` targets are fitted; ``use: held_out`` ones are
checked after the fit and never fitted (DESIGN.md section 7).

Every statistic is ``(run_dir, year) -> float``. It reads the monthly rows of the run's
``timeseries.parquet`` for the calendar year (sums or means over its twelve months) and needs the
run's ``summary.json``, which marks a finished run; ``households.parquet`` is not written in
calibration sweeps and is never read. Money is in yuan at 2020 prices, the model's unit
(docs/model.md, section 1.2): the targets file deflates nominal figures to 2020 prices. The
columns the statistics read besides the engine's usual ones are recorded for them by
:class:`sim.engine.model.PovertyModel` (``_wages_earned`` and ``_calibration_month``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.config import CONFIG_DIR
from sim.files import SUMMARY_FILE, TIMESERIES_FILE
from sim.outcomes import share
from sim.params import ConfigError

TARGETS_FILE = CONFIG_DIR / "targets" / "calibration.yaml"
FIRST_YEAR, LAST_YEAR = 2021, 2030
"""Calendar years a target may describe: the simulated years (2021-2030, DESIGN.md section 3)."""
USES = ("fit", "held_out")

Statistic = Callable[[Path, int], float]


# -- reading a run folder --------------------------------------------------------------------


def _months(run_dir: Path, year: int, columns: Sequence[str]) -> pd.DataFrame:
    """The ``columns`` of the run's monthly rows of calendar ``year`` (``timeseries.parquet``).

    Raises:
        ValueError: the run has no ``summary.json`` (unfinished), its time series cannot be read
            or lacks a column, or it did not simulate ``year``; one line naming the file.
    """
    run_dir = Path(run_dir)
    path = run_dir / TIMESERIES_FILE
    if not (run_dir / SUMMARY_FILE).is_file():
        raise ValueError(f"{run_dir}: no {SUMMARY_FILE}: the run did not finish")
    try:
        table = pd.read_parquet(path, columns=["year", *columns])
    except (OSError, ValueError) as exc:  # missing file or column, or not Parquet
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ValueError(f"{path}: cannot read {', '.join(columns)} ({reason})") from None
    rows = table[table["year"] == year]
    if rows.empty:
        years = sorted(int(y) for y in table["year"].unique())
        span = f"{years[0]}-{years[-1]}" if years else "none"
        raise ValueError(f"{path}: year {year} was not simulated (years {span})")
    return rows


def lifted_income_per_capita(run_dir: Path, year: int) -> float:
    """Per-capita income of the lifted population in ``year``: yuan per person, 2020 prices.

    ``sum of lifted_income_yuan over the year's months / lifted_people``: the year's income
    (market income plus what the policies paid: the ``income`` measure) of every household
    registered poor and lifted by 2020 (``initial_status == lifted``, whether it relapsed since
    or not), over the people of those households. S26's 脱贫人口人均纯收入.
    """
    rows = _months(run_dir, year, ["lifted_income_yuan", "lifted_people"])
    return share(float(rows["lifted_income_yuan"].sum()), float(rows["lifted_people"].iloc[0]))


def county_income_per_capita(run_dir: Path, year: int) -> float:
    """Per-capita income of the whole county in ``year``: yuan per person, 2020 prices.

    ``mean of income_per_capita_mean over the year's months``: each month's ``income`` measure
    of all households times 12 over all people, so the mean is the year's income over the people
    (the people-weighted mean). S27's rural per-capita disposable income of the formerly poor
    counties (the default county is one).
    """
    return float(
        _months(run_dir, year, ["income_per_capita_mean"])["income_per_capita_mean"].mean()
    )


def income_median_to_mean(run_dir: Path, year: int) -> float:
    """Median over mean of per-capita income in ``year``, all people of the county (a share).

    ``income_per_capita_median of the year's December row / mean of income_per_capita_mean over
    the year's months``: the median is the people-weighted one (:func:`sim.engine.model.
    people_median`: the median person's household income per person, ``income`` measure) of the
    last complete year, which in December is the year itself. S28's median over mean of rural
    per-capita income.
    """
    rows = _months(run_dir, year, ["month", "income_per_capita_median", "income_per_capita_mean"])
    december = rows.loc[rows["month"] == 12, "income_per_capita_median"]
    if december.empty:
        raise ValueError(f"{run_dir}: no December row in {year}")
    return share(float(december.iloc[0]), float(rows["income_per_capita_mean"].mean()))


def lifted_wage_share(run_dir: Path, year: int) -> float:
    """Share of wages in the lifted population's income in ``year`` (0..1).

    ``(sum of lifted_wage_income_yuan + sum of lifted_policy_wage_yuan) / sum of
    lifted_income_yuan``, sums over the year's months: local wages and migrants' remittances as
    earned (at the earnings level, on the working share), plus the wages the workshops and
    public-welfare posts paid (:data:`sim.engine.model.WAGE_POLICIES`), over the ``income``
    measure of the initially lifted households. S29's wage share of the lifted population's
    income.
    """
    rows = _months(
        run_dir, year, ["lifted_wage_income_yuan", "lifted_policy_wage_yuan", "lifted_income_yuan"]
    )
    wages = float(rows["lifted_wage_income_yuan"].sum() + rows["lifted_policy_wage_yuan"].sum())
    return share(wages, float(rows["lifted_income_yuan"].sum()))


def lifted_wage_work_share(run_dir: Path, year: int) -> float:
    """People of the lifted population in wage work in ``year``, per lifted person (0..1).

    ``mean of lifted_wage_workers over the year's months / lifted_people``: workers of the
    initially lifted households in a local wage job or employed as migrants (returned migrants
    out of work, farm workers and the part-time workshop and public-welfare posts they hold are
    not counted), over the people of those households. S30's lifted people in work (务工) over
    the lifted population.
    """
    rows = _months(run_dir, year, ["lifted_wage_workers", "lifted_people"])
    return share(float(rows["lifted_wage_workers"].mean()), float(rows["lifted_people"].iloc[0]))


def migrant_monthly_wage(run_dir: Path, year: int) -> float:
    """A migrant's monthly wage in ``year``: yuan per migrant-month, 2020 prices.

    ``sum of migrant_wage_yuan / sum of migrant_workers over the year's months``: employed
    migrants' whole wages (before the share they send home; at the earnings level, sick leave
    not deducted) over the migrant-months. S25's migrant workers' average monthly income.
    """
    rows = _months(run_dir, year, ["migrant_wage_yuan", "migrant_workers"])
    return share(float(rows["migrant_wage_yuan"].sum()), float(rows["migrant_workers"].sum()))


def hospitalisations_per_person(run_dir: Path, year: int) -> float:
    """Hospital stays per person in ``year`` (stays per person-year).

    ``sum of hospitalisations over the year's months / people``. S12's share of people
    hospitalised in a year (the admissions rate of the national health services survey).
    """
    rows = _months(run_dir, year, ["hospitalisations", "people"])
    return share(float(rows["hospitalisations"].sum()), float(rows["people"].iloc[0]))


def inpatient_cost_per_admission(run_dir: Path, year: int) -> float:
    """Mean hospital bill per stay in ``year``, before any reimbursement: yuan, 2020 prices.

    ``sum of hospital_cost_yuan / sum of hospitalisations over the year's months``. S32's average
    inpatient cost per admission.
    """
    rows = _months(run_dir, year, ["hospital_cost_yuan", "hospitalisations"])
    return share(float(rows["hospital_cost_yuan"].sum()), float(rows["hospitalisations"].sum()))


def safety_net_people_share(run_dir: Path, year: int) -> float:
    """People on the safety-net roll (dibao and 特困) in ``year``, per person of the county (0..1).

    ``mean of safety_net_people over the year's months / people``: people in households on the
    roll at each month's close (``state.safety_net``; meaningful with the safety_net policy
    enabled, as under ``policy=status_quo``). S31's rural dibao and 特困 recipients over the rural
    population.
    """
    rows = _months(run_dir, year, ["safety_net_people", "people"])
    return share(float(rows["safety_net_people"].mean()), float(rows["people"].iloc[0]))


def disaster_affected_per_person(run_dir: Path, year: int) -> float:
    """People affected by disasters in ``year``: person-times per person-year.

    ``sum of people_hit_by_disaster over the year's months / people``: the people of every
    household in a village a disaster struck, counted once per disaster month (person-times, as
    S36 counts them), over the county's people. S36's people affected over the population.
    """
    rows = _months(run_dir, year, ["people_hit_by_disaster", "people"])
    return share(float(rows["people_hit_by_disaster"].sum()), float(rows["people"].iloc[0]))


STATISTICS: dict[str, Statistic] = {
    statistic.__name__: statistic
    for statistic in (
        lifted_income_per_capita,
        county_income_per_capita,
        income_median_to_mean,
        lifted_wage_share,
        lifted_wage_work_share,
        migrant_monthly_wage,
        hospitalisations_per_person,
        inpatient_cost_per_admission,
        safety_net_people_share,
        disaster_affected_per_person,
    )
}
"""The statistics a target may name, by function name."""


# -- targets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One observed figure and the statistic that simulates it.

    Attributes:
        name: unique name, e.g. ``lifted_income_2021``.
        statistic: a key of :data:`STATISTICS`.
        year: the calendar year the figure describes (2021-2030); the statistic is computed
            for it.
        observed: the observed value, in the statistic's unit (money deflated to 2020 prices).
        low: lower end of the observed value's interval (``low <= observed``).
        high: upper end (``observed <= high``).
        source: the SOURCES.md row id (``S26``).
        use: ``fit`` (fitted) or ``held_out`` (checked after the fit, never fitted).
        note: how the observed figure maps onto the model's quantity (deflator, denominator).
        tolerance_reason: why ``[low, high]`` is what it is, where the source gives no interval.
    """

    name: str
    statistic: str
    year: int
    observed: float
    low: float
    high: float
    source: str
    use: str
    note: str
    tolerance_reason: str | None = None

    def covers(self, value: float) -> bool:
        """Whether ``value`` lies in the observed interval ``[low, high]``."""
        return self.low <= value <= self.high


REQUIRED = tuple(f.name for f in fields(Target) if f.name != "tolerance_reason")
KEYS = tuple(f.name for f in fields(Target))


def _number(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}: {key}={value!r} is not a finite number")
    return float(value)


def _text(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} must be a non-empty text")
    return value.strip()


def _target(entry: Any, index: int, source: Path) -> Target:
    """One checked entry of a targets file (``index``: its position, for the message)."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{source}: target #{index + 1}: expected a mapping of {', '.join(KEYS)}")
    name = entry.get("name")
    where = f"{source}: target {name if isinstance(name, str) and name else f'#{index + 1}'}"
    missing = [key for key in REQUIRED if key not in entry]
    if missing:
        raise ConfigError(f"{where}: missing key {missing[0]}")
    unknown = sorted(set(entry) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]}; allowed {', '.join(KEYS)}")
    name = _text(where, "name", entry["name"])
    statistic = entry["statistic"]
    if statistic not in STATISTICS:
        raise ConfigError(
            f"{where}: statistic={statistic} is unknown; allowed {', '.join(STATISTICS)}"
        )
    year = entry["year"]
    if isinstance(year, bool) or not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise ConfigError(
            f"{where}: year={year!r} is outside the simulated years {FIRST_YEAR}-{LAST_YEAR}"
        )
    observed, low, high = (_number(where, key, entry[key]) for key in ("observed", "low", "high"))
    if low > observed:
        raise ConfigError(f"{where}: low={low:g} is above observed={observed:g}")
    if observed > high:
        raise ConfigError(f"{where}: observed={observed:g} is above high={high:g}")
    row = _text(where, "source", entry["source"])
    if not (row.startswith("S") and row[1:].isdigit()):
        raise ConfigError(f"{where}: source={row} is not a SOURCES.md row id (S1, S2, ...)")
    if entry["use"] not in USES:
        raise ConfigError(f"{where}: use={entry['use']}; allowed {', '.join(USES)}")
    reason = entry.get("tolerance_reason")
    return Target(
        name=name,
        statistic=statistic,
        year=year,
        observed=observed,
        low=low,
        high=high,
        source=row,
        use=entry["use"],
        note=_text(where, "note", entry["note"]),
        tolerance_reason=None if reason is None else _text(where, "tolerance_reason", reason),
    )


def load_targets(path: str | Path | None = None) -> list[Target]:
    """Read and check a targets file (default: the shipped ``configs/targets/calibration.yaml``).

    The file is a mapping with one key, ``targets``: a list of entries with the fields of
    :class:`Target`.

    Raises:
        ConfigError: one line naming the file, the target and the key: the file is unreadable
            or not of that form; a key is missing or unknown; the statistic is unknown; the year
            lies outside 2021-2030; a value is not a finite number; ``low > observed`` or
            ``observed > high``; the source is not a row id; ``use`` is neither ``fit`` nor
            ``held_out``; a name is used twice.
    """
    source = Path(path) if path is not None else TARGETS_FILE
    try:
        loaded = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{source}: cannot read the targets ({type(exc).__name__})") from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("targets"), list):
        raise ConfigError(f"{source}: expected a mapping 'targets:' with a list of targets")
    unknown = sorted(set(loaded) - {"targets"})
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]}; allowed targets")
    if not loaded["targets"]:
        raise ConfigError(f"{source}: targets: the list is empty")
    targets = [_target(entry, i, source) for i, entry in enumerate(loaded["targets"])]
    seen: set[str] = set()
    for target in targets:
        if target.name in seen:
            raise ConfigError(f"{source}: target {target.name}: name used twice")
        seen.add(target.name)
    return targets


def simulate_targets(run_dir: str | Path, targets: Sequence[Target]) -> dict[str, float]:
    """Each target's statistic computed on the run folder ``run_dir``, by target name.

    Raises:
        ValueError: the run folder does not hold what a statistic needs (see :func:`_months`).
    """
    folder = Path(run_dir)
    return {t.name: STATISTICS[t.statistic](folder, t.year) for t in targets}


def _figure(value: float) -> str:
    """A value as the tables show it: whole yuan with thousands separators, shares to 4 places."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4f}"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.studies.targets RUN_DIR...``: each target against its simulated value.

    Prints a Markdown table: the target, its use and year, the observed value and interval, the
    mean of the statistic over the run folders with its smallest and largest value, and whether
    the mean lies in the interval. ``--targets PATH`` reads another targets file. A bad file or
    run folder: one line on stderr, exit status 2.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m sim.studies.targets")
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (summary.json inside)")
    parser.add_argument("--targets", type=Path, default=None, help="a targets file")
    args = parser.parse_args(argv)
    try:
        targets = load_targets(args.targets)
        values = pd.DataFrame([simulate_targets(run, targets) for run in args.runs])
    except ValueError as exc:  # ConfigError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("| target | use | year | observed [low, high] | simulated mean (min - max) | within |")
    print("|---|---|---|---|---|---|")
    for t in targets:
        column = values[t.name]
        mean = float(column.mean())
        print(
            f"| `{t.name}` | {t.use} | {t.year} "
            f"| {_figure(t.observed)} [{_figure(t.low)}, {_figure(t.high)}] "
            f"| {_figure(mean)} ({_figure(column.min())} - {_figure(column.max())}) "
            f"| {'yes' if t.covers(mean) else 'no'} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
