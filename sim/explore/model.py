"""The explorer's Mesa model: the chosen scenario, and in compare mode its baseline, month by month.

:class:`ExplorerModel` is what Mesa's ``SolaraViz`` creates, steps and resets. It takes the
page's settings as keywords (one per control of :mod:`sim.explore.controls`, named by the
override key), composes the run's config exactly as ``python -m sim`` would with the same
overrides, and steps a :class:`sim.engine.model.PovertyModel` one month per step. In compare mode
a second model runs the baseline (every policy off) with the same seed: both face the same
illnesses, disasters and job losses (common random numbers), so the difference between them,
month by month, is the effect of the chosen policies.

Each step ends by appending one record of the month (:attr:`ExplorerModel.months_seen`): the
projected headcount and the relapse events so far of each run, every enabled policy's spending so
far and, with monitoring on, the households in each risk colour. The charts read these records
and the engine's annual assessments only, so a chart drawn while a step runs in another thread
(Mesa's ▶ plays in a thread) sees whole months.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.engine.model import PovertyModel
from sim.engine.state import COLOUR_NAMES
from sim.explore import controls
from sim.outcomes import CAUSES

CHOSEN = "chosen"
BASELINE = "baseline (no policy)"


class ExplorerModel(mesa.Model):
    """The chosen scenario (and, with ``compare``, its baseline) stepped one month at a time.

    Args:
        compare: also run the baseline (every policy off) on the same seed.
        scenario: accepted and ignored: Mesa >= 3.5 passes its own scenario object on reset;
            the settings come from the keywords.
        **kwargs: control values by override key (``policies.medical_relief.enabled=True``,
            ``shocks.hospitalisation_rate=0.2``, ``seed=3``); the others keep their defaults.
            (Mesa 3.3's ``SolaraViz`` accepts any keyword only when this is named ``kwargs``.)

    Raises:
        ConfigError: a setting names no control, or a value the config refuses.
    """

    def __init__(self, *, compare: bool = False, scenario: object = None, **kwargs: Any):
        self.settings = controls.settings_of({controls.COMPARE: compare, **kwargs})
        self.overrides = controls.overrides(self.settings)
        cfg = controls.compose(self.overrides)
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.chosen = PovertyModel(cfg)
        self.baseline = (
            PovertyModel(controls.compose(controls.baseline_overrides(self.overrides)))
            if compare
            else None
        )
        self.monitoring = any(p.name == "monitoring" for p in self.chosen.policies)
        self.months_seen: list[dict[str, Any]] = []
        self.running = True

    @property
    def command_line(self) -> str:
        """The command that runs this scenario from the start: ``python -m sim ...``."""
        return controls.command_line(self.settings)

    def runs(self) -> Iterator[tuple[str, PovertyModel]]:
        """The chosen scenario and, in compare mode, the baseline, with their labels."""
        yield CHOSEN, self.chosen
        if self.baseline is not None:
            yield BASELINE, self.baseline

    def step(self) -> None:
        """Simulate the next month of every run, then record it; stop after the horizon."""
        if self.chosen.finished:
            self.running = False
            return
        for _, run in self.runs():
            run.step()
        last = self.chosen.monthly[-1]
        ledger = self.chosen.ledger
        colours = np.bincount(self.chosen.state.risk_colour, minlength=len(COLOUR_NAMES))
        self.months_seen.append(
            {
                "date": f"{last['year']}-{last['month']:02d}",
                "headcount": {
                    label: run.monthly[-1]["headcount_ratio_projected"]
                    for label, run in self.runs()
                },
                "relapses": {label: relapse_events(run) for label, run in self.runs()},
                "spending": {p.name: float(ledger.cost(p.name)) for p in self.chosen.policies},
                "colours": colours.tolist() if self.monitoring else None,
            }
        )
        self.running = not self.chosen.finished

    # -- tidy tables for the charts -------------------------------------------------------

    def headcount(self) -> pd.DataFrame:
        """Per month and run: people below the line, projected from income so far (%)."""
        rows = [
            (month["date"], label, 100 * value)
            for month in self.months_seen
            for label, value in month["headcount"].items()
        ]
        return pd.DataFrame(rows, columns=["date", "run", "headcount_pct"])

    def relapse(self) -> pd.DataFrame:
        """Per assessed year, run and measure: the relapse rate of lifted households (%)."""
        rows = [
            (record["year"], label, key, 100 * value)
            for label, run in self.runs()
            for record in list(run.annual)
            for key, value in record.items()
            if key.startswith("relapse_rate")
        ]
        return pd.DataFrame(rows, columns=["year", "run", "measure", "rate_pct"])

    def causes(self) -> pd.DataFrame:
        """Per assessed year and cause: relapse events of the chosen scenario."""
        rows = [
            (record["year"], cause, record[f"relapses_{cause}"])
            for record in list(self.chosen.annual)
            for cause in CAUSES
            if f"relapses_{cause}" in record
        ]
        return pd.DataFrame(rows, columns=["year", "cause", "relapses"])

    def spending_by_policy(self) -> pd.DataFrame:
        """Per month and enabled policy: money spent since the start (million yuan)."""
        rows = [
            (month["date"], name, yuan / 1e6)
            for month in self.months_seen
            for name, yuan in month["spending"].items()
        ]
        return pd.DataFrame(rows, columns=["date", "policy", "million_yuan"])

    def risk_colours(self) -> pd.DataFrame:
        """Per month and colour: households the monitoring system colours so (monitoring on)."""
        rows = [
            (month["date"], name, count)
            for month in self.months_seen
            if month["colours"] is not None
            for name, count in zip(COLOUR_NAMES, month["colours"], strict=True)
        ]
        return pd.DataFrame(rows, columns=["date", "colour", "households"])

    def difference(self) -> pd.DataFrame:
        """Per month, chosen minus baseline on the same seed (compare mode; else empty).

        Columns: the projected headcount (percentage points) and the relapse events assessed so
        far.
        """
        rows = [
            (
                month["date"],
                100 * (month["headcount"][CHOSEN] - month["headcount"][BASELINE]),
                month["relapses"][CHOSEN] - month["relapses"][BASELINE],
            )
            for month in self.months_seen
            if BASELINE in month["headcount"]
        ]
        return pd.DataFrame(rows, columns=["date", "headcount_pp", "relapses_so_far"])

    def status(self) -> list[str]:
        """Lines of text on where the run stands (the page's status card)."""
        seen = list(self.months_seen)
        lines = [f"month {len(seen)} of {self.cfg.months}"]
        if not seen:
            return [*lines, "press Step or ▶ to run"]
        last = seen[-1]
        lines[0] += f" ({last['date']})"
        lines.append(f"headcount, projected: {100 * last['headcount'][CHOSEN]:.2f}%")
        lines.append(f"relapse events so far: {last['relapses'][CHOSEN]:,}")
        spent = ", ".join(f"{n} {y / 1e6:,.2f} M yuan" for n, y in last["spending"].items())
        lines.append(f"policy spending so far: {spent or 'no policy'}")
        if BASELINE in last["headcount"]:
            points = 100 * (last["headcount"][CHOSEN] - last["headcount"][BASELINE])
            events = last["relapses"][CHOSEN] - last["relapses"][BASELINE]
            lines.append(
                f"difference to no policy: headcount {points:+.2f} points, "
                f"relapse events {events:+,}"
            )
        return lines


def relapse_events(model: PovertyModel) -> int:
    """Relapse events of ``model``'s assessments so far (one per household and year)."""
    return sum(int(record["relapses"]) for record in list(model.annual))
