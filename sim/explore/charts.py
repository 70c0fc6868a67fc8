"""The explorer's charts: ECharts options over the tidy tables of the explorer's model.

Each function takes one table of :class:`sim.explore.model.ExplorerModel` and returns the option
dict of an ECharts chart, which the page draws with Solara's ``FigureEcharts``. ECharts' script
ships in the ``solara-assets`` package (the ``explore`` extra), so the page works without
internet access. Series are told apart by line pattern as well as colour, so that a printed
screenshot stays readable; animation is off, as the charts are redrawn every month.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from sim.explore.model import ExplorerModel

PATTERNS = ("solid", "dashed", "dotted")
COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "orange": "#ef6c00", "red": "#c62828"}

Option = dict[str, Any]


def _chart(title: str, x: list[Any], y_name: str, series: list[Option]) -> Option:
    return {
        "animation": False,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "type": "scroll"},
        "grid": {"left": 60, "right": 20, "top": 40, "bottom": 55},
        "xAxis": {"type": "category", "data": x},
        "yAxis": {"type": "value", "name": y_name, "nameGap": 12},
        "series": series,
    }


def _line(name: str, values: list[float | None], number: int, **more: Any) -> Option:
    return {
        "name": name,
        "type": "line",
        "data": values,
        "showSymbol": False,
        "lineStyle": {"type": PATTERNS[number % len(PATTERNS)]},
        **more,
    }


def _series_by(
    table: pd.DataFrame, x: str, by: str, value: str
) -> tuple[list[Any], list[tuple[str, list[float | None]]]]:
    """The x values, and per group of ``by`` its values at each x (None where it has none).

    Plain lists rather than a pandas pivot: the charts are rebuilt every month, and a pivot
    costs milliseconds where this costs tens of microseconds.
    """
    xs = list(dict.fromkeys(table[x].tolist()))
    position = {v: i for i, v in enumerate(xs)}
    groups: dict[str, list[float | None]] = {}
    rows = zip(table[x].tolist(), table[by].tolist(), table[value].tolist(), strict=True)
    for at, group, number in rows:
        groups.setdefault(str(group), [None] * len(xs))[position[at]] = round(number, 4)
    return xs, list(groups.items())


def headcount_chart(table: pd.DataFrame) -> Option:
    """People below the line, projected from the year's income so far, per month and run (%)."""
    x, groups = _series_by(table, "date", "run", "headcount_pct")
    series = [_line(name, values, i) for i, (name, values) in enumerate(groups)]
    return _chart("People below the line, projected (%)", x, "% of people", series)


def relapse_chart(table: pd.DataFrame) -> Option:
    """Relapse rate of lifted households per assessed year, by run and poverty measure (%)."""
    labelled = table.assign(series=table["run"] + ", " + table["measure"])
    x, groups = _series_by(labelled, "year", "series", "rate_pct")
    series = [_line(name, values, i, showSymbol=True) for i, (name, values) in enumerate(groups)]
    return _chart("Relapse rate of lifted households, per year (%)", x, "%", series)


def causes_chart(table: pd.DataFrame) -> Option:
    """Relapse events of the chosen scenario per assessed year, stacked by cause."""
    x, groups = _series_by(table, "year", "cause", "relapses")
    series = [
        {"name": name, "type": "bar", "stack": "causes", "data": values} for name, values in groups
    ]
    option = _chart("Relapse events by cause", x, "events", series)
    option["aria"] = {"enabled": True, "decal": {"show": True}}  # patterns for greyscale print
    return option


def spending_chart(table: pd.DataFrame) -> Option:
    """Money each enabled policy has spent since the start (million yuan)."""
    x, groups = _series_by(table, "date", "policy", "million_yuan")
    title = "Spending by policy since the start (million yuan)"
    if table.empty:
        title = "Spending by policy: no policy enabled"
    series = [_line(name, values, i) for i, (name, values) in enumerate(groups)]
    return _chart(title, x, "million yuan", series)


def colours_chart(table: pd.DataFrame) -> Option:
    """Households in each risk colour of the monitoring system, per month (not green, stacked)."""
    title = "Monitoring: households by risk colour"
    if table.empty:
        title += " (monitoring is off)"
    x, groups = _series_by(table[table["colour"] != "green"], "date", "colour", "households")
    series = [
        _line(
            name,
            values,
            i,
            stack="colours",
            areaStyle={},
            itemStyle={"color": COLOURS.get(name)},
        )
        for i, (name, values) in enumerate(groups)
    ]
    return _chart(title, x, "households", series)


def difference_chart(table: pd.DataFrame) -> Option:
    """Chosen minus baseline on the same seed: headcount (points) and relapse events so far."""
    title = "Difference to no policy, same seed"
    if table.empty:
        title += " (switch on compare and Reset)"
    option = _chart(title, table["date"].tolist(), "points", [])
    option["yAxis"] = [
        {"type": "value", "name": "headcount, points", "nameGap": 12},
        {"type": "value", "name": "relapse events", "nameGap": 12},
    ]
    option["grid"]["right"] = 60
    option["series"] = [
        _line("headcount (points)", table["headcount_pp"].round(4).tolist(), 0),
        _line("relapse events so far", table["relapses_so_far"].tolist(), 1, yAxisIndex=1),
    ]
    return option


PANELS: tuple[
    tuple[str, Callable[[pd.DataFrame], Option], Callable[[ExplorerModel], pd.DataFrame]], ...
] = (
    ("headcount", headcount_chart, ExplorerModel.headcount),
    ("relapse", relapse_chart, ExplorerModel.relapse),
    ("causes", causes_chart, ExplorerModel.causes),
    ("spending", spending_chart, ExplorerModel.spending_by_policy),
    ("colours", colours_chart, ExplorerModel.risk_colours),
    ("difference", difference_chart, ExplorerModel.difference),
)
"""The page's charts in order: name, chart, and the model's table it draws."""
