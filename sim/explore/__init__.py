"""The interactive explorer: ``python -m sim.explore [--port N]`` (see ``docs/explorer.md``).

A Solara page on Mesa's visualisation (``SolaraViz``): switch policies on and off, move their
main parameters and the shock intensities, watch a scenario unfold month by month, and compare
it with the baseline on the same seed. Its dependencies are the ``explore`` extra
(``pip install -e ".[explore]"``).

- :mod:`sim.explore.controls`: the controls, read from the policy registry and the config
  schema, and how settings become overrides and a command line;
- :mod:`sim.explore.model`: the Mesa model the page steps (the chosen scenario and its
  baseline), with the tables the charts draw;
- :mod:`sim.explore.charts`: the charts (Altair);
- :mod:`sim.explore.app`: the page;
- ``python -m sim.explore --benchmark``: the time a month takes, step and charts.
"""
