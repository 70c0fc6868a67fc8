"""Field helpers shared by every config dataclass: required values with allowed ranges.

Every number in a config has a finite range that follows from its meaning (a share lies in
[0, 1], a yuan amount below a bound that no real programme reaches), declared with
:func:`bounded` or :func:`probability` next to the field, with the reason in a comment. A
researcher's own policy (a plugin) declares its fields the same way. :func:`check_fields`
checks a whole config tree; :func:`sim.config.load_config` calls it, so every value a run sees
lies in its range and every refusal is one :class:`ConfigError` line naming the key, the value
and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import Field, field
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf


class ConfigError(ValueError):
    """A configuration value is missing, of the wrong type or out of range."""


def bounded(lo: float, hi: float, *, open_lo: bool = False) -> Any:
    """A required number in ``[lo, hi]`` (``(lo, hi]`` with ``open_lo``).

    Both bounds are required and finite, so no field can forget its upper bound. The value itself
    comes from the YAML files under ``configs/``; the range is checked by :func:`check_fields`.

    Raises:
        ValueError: a bound is not finite or ``lo >= hi`` (when the dataclass is defined).
    """
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"a range needs finite bounds lo < hi, got [{lo}, {hi}]")
    return field(default=MISSING, metadata={"lo": lo, "hi": hi, "open_lo": open_lo})


def probability() -> Any:
    """A required field holding a probability or share in [0, 1]."""
    return bounded(0.0, 1.0)


def required() -> Any:
    """A required field without a range (booleans, names)."""
    return field(default=MISSING)


def _bound(x: float) -> str:
    """A bound as people write it: ``100000`` rather than ``100000.0``, ``0.5`` as it is."""
    return str(int(x)) if float(x).is_integer() else repr(x)


def allowed(f: Field[Any]) -> str | None:
    """The allowed values of field ``f`` as text (``(0, 100000]``, ``true or false``), or None."""
    if "lo" in f.metadata:
        lo, hi = f.metadata["lo"], f.metadata["hi"]
        return f"{'(' if f.metadata['open_lo'] else '['}{_bound(lo)}, {_bound(hi)}]"
    if _is_bool(f):
        return "true or false"
    return None


def allowed_at(schema: Any, key: str) -> str | None:
    """The allowed values of the field at dotted ``key`` of a config schema, or None if unknown.

    Args:
        schema: a config dataclass (``Config``, a policy's config class) or an instance of one.
        key: the field's key relative to ``schema`` (``poverty.line``).
    """
    node: Any = schema if isinstance(schema, type) else type(schema)
    *parents, name = key.split(".")
    for part in parents:
        if not dataclasses.is_dataclass(node):
            return None
        node = typing.get_type_hints(node).get(part)
    if not (isinstance(node, type) and dataclasses.is_dataclass(node)):
        return None
    by_name = {f.name: f for f in dataclasses.fields(node)}
    return allowed(by_name[name]) if name in by_name else None


def _is_bool(f: Field[Any]) -> bool:
    return f.type in (bool, "bool")


def check_fields(config: Any, raw: DictConfig, path: str = "") -> None:
    """Check every field of a config tree (nested dataclasses) against its declaration.

    Args:
        config: the typed config (a dataclass instance) converted from ``raw``.
        raw: the composed config as given, to tell a boolean from a value OmegaConf converted
            to one (it reads ``2``, ``"yes"`` or ``"on"`` as true): a boolean field takes
            ``true`` or ``false`` only.
        path: prefix of the keys (``"policies."``), for the messages.

    Raises:
        ConfigError: one line naming the full key, the value and what is allowed.
    """
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        key = f"{path}{f.name}"
        if dataclasses.is_dataclass(value):
            check_fields(value, raw, key + ".")
        elif _is_bool(f):
            given = OmegaConf.select(raw, key, default=value)
            if not isinstance(given, bool):
                raise ConfigError(f"{key}={given} is not a boolean: allowed true or false")
        elif "lo" in f.metadata:
            lo, hi = f.metadata["lo"], f.metadata["hi"]
            too_low = value <= lo if f.metadata["open_lo"] else value < lo
            if (isinstance(value, float) and math.isnan(value)) or too_low or value > hi:
                raise ConfigError(f"{key}={value} is out of range: allowed {allowed(f)}")
