"""Agent-based simulation of poverty relapse and of the policies that prevent it.

The Python API (``docs/api.md``): :func:`simulate` runs a scenario in memory, :func:`compare_runs`
compares runs paired on seed, :func:`load_sweep` reads a sweep folder; a bad override raises
:class:`ConfigError`. They are imported on first use, so ``import sim`` stays cheap and imports
neither the engine nor matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["ConfigError", "Result", "SweepTables", "compare_runs", "load_sweep", "simulate"]

if TYPE_CHECKING:
    from sim.api import Result, SweepTables, compare_runs, load_sweep, simulate
    from sim.params import ConfigError


def __getattr__(name: str) -> Any:
    """The API's names, imported from :mod:`sim.api` on first use (PEP 562)."""
    if name in __all__:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
