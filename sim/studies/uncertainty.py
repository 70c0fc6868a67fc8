"""Declared uncertainty: the plausible range of each parameter that no source pins.

The ranges live in one file, ``configs/uncertainty/default.yaml`` (DESIGN.md section 4.7): each
entry is a config key with ``low``, ``high``, ``dist`` and ``reason``. The sensitivity study, the
robust comparison and the calibration read it through :func:`load_uncertainty`; a study can point
to another file of the same form (``sensitivity.uncertainty=PATH``). The schema's allowed range of
each key (:mod:`sim.config`, :mod:`sim.params`) bounds the declared one, and its type decides
whether draws are whole numbers.

A design is made in the unit hypercube (one column per parameter, values in [0, 1]) and mapped
to parameter values by each parameter's quantile function (:meth:`Uncertain.values`), so that a
Latin hypercube follows the declared distributions and a Morris grid moves along their quantiles.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.config import CONFIG_DIR, Config
from sim.params import ConfigError

UNCERTAINTY_FILE = CONFIG_DIR / "uncertainty" / "default.yaml"
DISTRIBUTIONS = ("uniform", "loguniform")
SIGNIFICANT_DIGITS = 6  # drawn values are rounded so that overrides are short and reproducible


@dataclass(frozen=True)
class SchemaRange:
    """What the typed schema allows for a key: its type and its bounds (None: unbounded)."""

    type: type
    lo: float | None
    hi: float | None
    open_lo: bool


def schema_range(key: str) -> SchemaRange:
    """The schema's type and allowed range of a dotted config key (``shocks.reimbursement_rate``).

    Raises:
        ConfigError: the key is not a parameter of the schema.
    """
    node: Any = Config
    parts = key.split(".")
    for depth, part in enumerate(parts):
        if not dataclasses.is_dataclass(node):
            break
        fields = {f.name: f for f in dataclasses.fields(node)}
        if part not in fields:
            break
        hint = typing.get_type_hints(node)[part]
        if depth == len(parts) - 1:
            if hint not in (int, float):
                break
            meta = fields[part].metadata
            return SchemaRange(hint, meta.get("lo"), meta.get("hi"), bool(meta.get("open_lo")))
        node = hint
    raise ConfigError(f"{key}: not a numeric parameter of the config schema (sim/config.py)")


@dataclass(frozen=True)
class Uncertain:
    """One declared uncertain parameter.

    Attributes:
        key: the config key, as on the command line.
        low: lowest plausible value, in the parameter's unit (inclusive).
        high: highest plausible value (inclusive).
        dist: ``uniform`` or ``loguniform`` (uniform in the logarithm; ``low > 0``).
        reason: why the range is what it is (a SOURCES.md row or the assumption).
        integer: the schema's type is ``int``: values are whole numbers, each value of
            ``[low, high]`` equally likely.
    """

    key: str
    low: float
    high: float
    dist: str
    reason: str
    integer: bool = False

    def values(self, unit: np.ndarray) -> np.ndarray:
        """Map quantiles in [0, 1] to parameter values (rounded to six significant digits)."""
        u = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
        if self.integer:
            return np.minimum(np.floor(self.low + u * (self.high - self.low + 1)), self.high)
        if self.dist == "loguniform":
            x = np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        return np.array([float(f"{v:.{SIGNIFICANT_DIGITS}g}") for v in x])


def override(key: str, value: float, *, integer: bool) -> str:
    """The command-line override that sets ``key`` to ``value`` (a whole number if ``integer``)."""
    return f"{key}={int(value) if integer else repr(float(value))}"


def _entry(key: str, entry: Any, source: Path) -> Uncertain:
    if not isinstance(entry, dict):
        raise ConfigError(f"{source}: {key}: expected low, high, dist and reason")
    missing = [name for name in ("low", "high", "dist", "reason") if name not in entry]
    if missing:
        raise ConfigError(f"{source}: {key}: missing {', '.join(missing)}")
    unknown = sorted(set(entry) - {"low", "high", "dist", "reason"})
    if unknown:
        raise ConfigError(
            f"{source}: {key}: unknown field {unknown[0]}; allowed low, high, dist, reason"
        )
    schema = schema_range(key)
    try:
        low, high = float(entry["low"]), float(entry["high"])
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: {key}: low and high must be numbers") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ConfigError(f"{source}: {key}: need finite low < high, got {low:g}, {high:g}")
    if entry["dist"] not in DISTRIBUTIONS:
        raise ConfigError(
            f"{source}: {key}: dist={entry['dist']}; allowed {', '.join(DISTRIBUTIONS)}"
        )
    integer = schema.type is int
    if integer and (entry["dist"] != "uniform" or low != int(low) or high != int(high)):
        raise ConfigError(f"{source}: {key}: an integer parameter needs whole low, high, uniform")
    if entry["dist"] == "loguniform" and low <= 0:
        raise ConfigError(f"{source}: {key}: a loguniform range needs low > 0")
    too_low = schema.lo is not None and (low <= schema.lo if schema.open_lo else low < schema.lo)
    if too_low or (schema.hi is not None and high > schema.hi):
        raise ConfigError(
            f"{source}: {key}: [{low:g}, {high:g}] leaves the schema's range "
            f"{'(' if schema.open_lo else '['}{schema.lo}, {schema.hi}]"
        )
    if not str(entry["reason"]).strip():
        raise ConfigError(f"{source}: {key}: the reason is empty")
    return Uncertain(key, low, high, str(entry["dist"]), str(entry["reason"]), integer)


def load_uncertainty(path: Path | str | None = None) -> dict[str, Uncertain]:
    """Read and check a file of declared ranges (default: ``configs/uncertainty/default.yaml``).

    Raises:
        ConfigError: the file is unreadable, a key is not a numeric parameter of the schema, or
            a range is empty, badly formed or outside the schema's allowed range.
    """
    source = Path(path) if path is not None else UNCERTAINTY_FILE
    try:
        loaded = yaml.safe_load(source.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{source}: cannot read declared ranges ({type(exc).__name__})") from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("parameters"), dict):
        raise ConfigError(f"{source}: expected a mapping 'parameters: KEY: {{low, high, ...}}'")
    return {key: _entry(key, entry, source) for key, entry in loaded["parameters"].items()}


def fixed_assumptions(path: Path | str | None = None) -> dict[str, str]:
    """The values marked as assumptions that are declared not uncertain, with the reason."""
    source = Path(path) if path is not None else UNCERTAINTY_FILE
    loaded = yaml.safe_load(source.read_text()) or {}
    return {str(key): str(reason) for key, reason in (loaded.get("fixed") or {}).items()}


def select(declared: dict[str, Uncertain], keys: list[str] | None) -> list[Uncertain]:
    """The declared parameters named by ``keys`` in that order (all of them for None).

    Raises:
        ConfigError: a key is not declared, or named twice.
    """
    if keys is None:
        return list(declared.values())
    unknown = [key for key in keys if key not in declared]
    if unknown:
        raise ConfigError(
            f"{unknown[0]}: no declared range (configs/uncertainty/default.yaml); "
            "declare it there or pass a file with sensitivity.uncertainty / robust.uncertainty"
        )
    if len(set(keys)) != len(keys):
        raise ConfigError(f"a parameter is named twice: {', '.join(keys)}")
    return [declared[key] for key in keys]


def markdown_table(declared: dict[str, Uncertain], defaults: dict[str, Any]) -> str:
    """The declared ranges as a Markdown table (docs/model.md shows it).

    The default is the third column, as in the document's other parameter tables.
    """
    lines = [
        "| parameter | distribution | default | range | reason for the range |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| `{p.key}` | {p.dist} | {defaults[p.key]:g} | {p.low:g} - {p.high:g} | {p.reason} |"
        for p in declared.values()
    ]
    return "\n".join(lines)


def main() -> None:
    """``python -m sim.studies.uncertainty``: print the table of docs/model.md, section 4."""
    from operator import attrgetter

    from sim.config import compose

    declared = load_uncertainty()
    defaults = compose()
    print(markdown_table(declared, {key: attrgetter(key)(defaults) for key in declared}))


if __name__ == "__main__":
    main()
