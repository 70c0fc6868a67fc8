"""The explorer's page: Mesa's ``SolaraViz`` around :class:`sim.explore.model.ExplorerModel`.

Mesa's controls run the model (Reset, ▶/❚❚, Step, play interval) and show the settings of
:mod:`sim.explore.controls` (a switch per registered policy, sliders for their main parameters
and for the shock intensities, seed, horizon, population, compare); changed settings apply on
Reset, as everywhere in Mesa. The page's components, redrawn after every step: the status of the
run with the command line of its settings, headcount, relapse by measure, causes, spending by
policy, the monitoring colours, and in compare mode the paired difference to the baseline.

Served by ``python -m sim.explore`` (Solara looks for ``Page`` in this module).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import solara
from mesa.visualization import SolaraViz

from sim.explore import charts, controls
from sim.explore.model import ExplorerModel

TITLE = "Poverty relapse explorer"
CHART_STYLE = "height: 320px; width: 100%;"


def model_params() -> dict[str, dict[str, object]]:
    """Mesa's ``model_params``: one input per control, keyed by its override key."""
    return {c.key: c.mesa_parameter() for c in controls.controls()}


def Status(model: ExplorerModel) -> solara.Element:
    """Where the run stands, and the command line that repeats it."""
    with solara.Column(classes=["sim-status"]) as column:
        mode = "compared with no policy on the same seed" if model.baseline is not None else ""
        solara.Text(f"Status {mode}", style={"font-weight": "bold"})
        for line in model.status():
            solara.Text(line, classes=["sim-status-line"])
        solara.Text("These settings on the command line (copy to repeat the run):")
        solara.Preformatted(
            model.command_line,
            class_="sim-command-line",
            style_="white-space: pre-wrap; word-break: break-all; user-select: all;",
        )
        solara.Text("Changed settings apply on Reset.", style={"font-style": "italic"})
    return column


def chart_component(
    name: str,
    chart: Callable[[pd.DataFrame], dict[str, Any]],
    table: Callable[[ExplorerModel], pd.DataFrame],
) -> Callable[[ExplorerModel], solara.Element]:
    """A page component drawing ``chart`` over the table ``table(model)`` returns."""

    def component(model: ExplorerModel) -> solara.Element:
        attributes = {"style": CHART_STYLE, "class": f"sim-chart sim-chart-{name}"}
        return solara.FigureEcharts(option=chart(table(model)), attributes=attributes)

    component.__name__ = f"{name.title()}Chart"
    return component


COMPONENTS = [Status, *(chart_component(*panel) for panel in charts.PANELS)]


@solara.component
def Page() -> None:
    """The page of one browser session, with its own model."""
    model = solara.use_memo(ExplorerModel, [])
    SolaraViz(
        model,
        components=COMPONENTS,
        model_params=model_params(),
        name=TITLE,
        play_interval=20,
    )
