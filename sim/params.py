"""Field helpers shared by every config dataclass: required values with allowed ranges."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from omegaconf import MISSING


class ConfigError(ValueError):
    """A configuration value is missing, of the wrong type or out of range."""


def bounded(lo: float | None = None, hi: float | None = None, *, open_lo: bool = False) -> Any:
    """A required field whose value must lie in ``[lo, hi]`` (``(lo, hi]`` with ``open_lo``).

    The value itself comes from the YAML files under ``configs/``; the range is checked by
    :func:`sim.config.load_config`.
    """
    return field(default=MISSING, metadata={"lo": lo, "hi": hi, "open_lo": open_lo})


def probability() -> Any:
    """A required field holding a probability or share in [0, 1]."""
    return bounded(0.0, 1.0)


def required() -> Any:
    """A required field without a range (booleans, names)."""
    return field(default=MISSING)
