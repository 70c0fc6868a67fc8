"""Checks of the files a sweep folder holds, before the comparison uses any of them.

A sweep folder is written by the command line, but a researcher may have copied, edited, truncated
or linked anything in it. Each reader here returns the parsed content of one file, or raises
:class:`Refused` with a one-line reason; the comparison names every refused file in its report.

What is refused, without reading the file's content:

- anything that is not a regular file (a folder, a FIFO, a device such as ``/dev/zero``, a socket),
  also behind a symbolic link; a link that leads outside the sweep folder; a broken link;
- a file larger than its size cap (:data:`SIZE_CAPS`).

What is refused after reading: text that is not UTF-8, JSON or YAML that does not parse, and
content that breaks the file's schema:

- ``summary.json``: an object with every key of :data:`SUMMARY_SCHEMA`, each of its kind, and the
  keys of :data:`SUMMARY_SCHEMA_V2` checked by kind when present; any
  further key holds a number, a boolean, a short label (at most :data:`MAX_LABEL` characters,
  e.g. ``measure``) or an object of them (at most :data:`MAX_DEPTH` levels).
  Every number is finite and at most :data:`LARGEST_NUMBER` in magnitude (NaN, Infinity, strings,
  null and huge integers are refused, naming the key); shares lie in [0, 1]
  (:func:`metric_bounds`), counts and amounts in yuan of the schema are not negative.
- ``.hydra/overrides.yaml``: a YAML list of strings (Hydra writes ``[]`` for none).
- ``sweep_plan.json``: an object whose ``runs`` is a list of lists of strings, with optional
  ``command`` (the command line, a list of strings) and ``fixed`` (the overrides shared by every
  run, a list of strings); other keys are ignored.
- ``error.json``: an object; its ``type`` and ``message``, where present, are strings.
- ``.hydra/config.yaml`` and ``multirun.yaml``: YAML mappings.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

import yaml

MB = 2**20
SIZE_CAPS = {
    "summary.json": 50 * MB,
    "sweep_plan.json": 50 * MB,
    "error.json": 10 * MB,
    "overrides.yaml": 1 * MB,
    "config.yaml": 10 * MB,
    "multirun.yaml": 10 * MB,
}
"""Largest size, in bytes, read of each file (assumption: 100x what a county of 10 million
households writes; a real ``summary.json`` is about 3 kB)."""
LARGEST_NUMBER = 2**53
"""Largest magnitude of a number in ``summary.json``: beyond it a float no longer holds every
integer, and no count of households or sum in yuan of a county comes near it."""
MAX_DEPTH = 4
"""Deepest nesting of objects in ``summary.json`` (the model writes two levels)."""
MAX_LABEL = 100
"""Longest text a ``summary.json`` key outside the schema may hold: labels such as ``measure``."""

SUMMARY_SCHEMA = {
    "seed": "count",
    "households": "count",
    "years": "count",
    "relapse_rate": "share",
    "relapse_cumulative": "share",
    "new_poverty_rate": "share",
    "headcount_ratio_final": "share",
    "relapses_total": "count",
    "relapses_by_cause": "counts",
    "relapse_cause_shares": "shares",
    "newly_poor_total": "count",
    "cost_total_yuan": "amount",
    "cost_by_policy_yuan": "amounts",
    "relapse_rate_by_year": "shares",
}
"""The keys every ``summary.json`` holds (:func:`sim.outcomes.summarize`) and their kind: a count
is a non-negative integer, an amount a non-negative number (yuan, or a rate per person-year), a
share a number in [0, 1], a label a short text (:data:`MAX_LABEL`); the plural kinds are objects
of them, and an object holds figures checked like the keys outside the schema."""
SUMMARY_SCHEMA_V2 = {
    "measure": "label",
    "poverty_gap_index": "share",
    "poverty_severity_index": "share",
    "relapse_events": "count",
    "households_relapsed": "count",
    "cost_total_yuan_discounted": "amount",
    "cost_by_year_yuan": "amounts",
    "headcount_ratio_by_year": "shares",
    "poverty_gap_index_by_year": "shares",
    "poverty_severity_index_by_year": "shares",
    "by_measure": "object",
    "hospitalisations_per_person_year": "amount",
    "by_group": "object",
    "targeting": "object",
}
"""Keys the second model's summaries add, checked by kind when present: a sweep folder written by
the first model (without them) stays readable."""
SHARE_SUFFIXES = ("_rate", "_share")

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Refused(ValueError):
    """A file that the comparison does not use; the message says why, in one line."""


def metric_bounds(metric: str) -> tuple[float, float]:
    """The range a metric of ``summary.json`` can take: its mean and interval stay inside.

    Shares (the schema's shares and their members, and any metric whose last name part ends in
    ``_rate`` or ``_share``) lie in [0, 1]; the schema's counts and amounts (and their members)
    in [0, inf); any other metric is unbounded.

    Args:
        metric: a flattened metric name, ``parent.child`` for members of an object.
    """
    top, _, _ = metric.partition(".")
    kind = SUMMARY_SCHEMA.get(top, "")
    if kind.startswith("share") or metric.rpartition(".")[2].endswith(SHARE_SUFFIXES):
        return 0.0, 1.0
    if kind.startswith(("count", "amount")):
        return 0.0, math.inf
    return -math.inf, math.inf


def read_bytes(path: Path, root: Path, cap: int) -> bytes | None:
    """The content of the regular file ``path`` (None when there is none), read safely.

    Args:
        path: the file.
        root: the sweep folder, resolved; ``path`` must lie inside it, links followed.
        cap: the largest size read, in bytes.

    Raises:
        Refused: not a regular file, a link out of ``root``, larger than ``cap``, or unreadable.
    """
    if not os.path.lexists(path):
        return None
    try:
        resolved = path.resolve(strict=True)
        info = os.stat(resolved)
    except (OSError, RuntimeError) as exc:
        raise Refused(f"broken or looping link ({getattr(exc, 'strerror', None) or exc})") from None
    if not resolved.is_relative_to(root):
        raise Refused(f"a link to {resolved}, outside the sweep folder")
    if not stat.S_ISREG(info.st_mode):
        raise Refused(f"not a regular file ({_kind(info.st_mode)})")
    if info.st_size > cap:
        raise Refused(f"{info.st_size:,} bytes, over the limit of {cap:,}")
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(resolved, flags)
    except OSError as exc:
        raise Refused(f"cannot open ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced since the check above
            raise Refused("not a regular file")
        data = os.read(fd, cap + 1)
    except OSError as exc:
        raise Refused(f"cannot read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > cap:
        raise Refused(f"over the limit of {cap:,} bytes")
    return data


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(f"not UTF-8 (byte {exc.start})") from None


def parse_json(data: bytes) -> Any:
    """JSON from bytes; NaN and Infinity are read (the schema then refuses them by key).

    Raises:
        Refused: not UTF-8, not JSON, or nested too deep to parse.
    """
    text = _text(data)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Refused(f"not JSON ({message})") from None


def parse_yaml(data: bytes) -> Any:
    """YAML (safe subset) from bytes.

    Raises:
        Refused: not UTF-8 or not YAML.
    """
    text = _text(data)
    try:
        return yaml.load(text, Loader=_YAML_LOADER)
    except (yaml.YAMLError, RecursionError) as exc:
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise Refused(f"not YAML ({problem})") from None


def _number(key: str, value: Any, low: float = -math.inf, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refused(f"{key}: {_show(value)} is not a number")
    if isinstance(value, int) and abs(value) > LARGEST_NUMBER:
        raise Refused(f"{key}: an integer of {len(str(abs(value)))} digits is out of range")
    if not math.isfinite(value):
        raise Refused(f"{key}: {value} is not a finite number")
    if abs(value) > LARGEST_NUMBER:
        raise Refused(f"{key}: {value:g} is out of range (at most {LARGEST_NUMBER:.2g})")
    if not low <= value <= high:
        raise Refused(f"{key}: {value:g} is outside [{low:g}, {high:g}]")
    return float(value)


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_kind(key: str, value: Any, kind: str) -> None:
    if kind == "label":
        if not isinstance(value, str) or len(value) > MAX_LABEL:
            raise Refused(f"{key}: {_show(value)} is not a label")
        return
    if kind == "object":
        if not isinstance(value, dict):
            raise Refused(f"{key}: {_show(value)} is not an object")
        _check_extra(key, value, 1)
        return
    low, high = (0.0, 1.0) if kind.startswith("share") else (0.0, math.inf)
    if kind in ("counts", "amounts", "shares"):
        if not isinstance(value, dict):
            raise Refused(f"{key}: {_show(value)} is not an object")
        for child, item in value.items():
            _check_kind(f"{key}.{child}", item, kind[:-1])
        return
    if kind == "count" and (isinstance(value, bool) or not isinstance(value, int)):
        raise Refused(f"{key}: {_show(value)} is not an integer")
    _number(key, value, low, high)


def _check_extra(key: str, value: Any, depth: int) -> None:
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise Refused(f"{key}: nested deeper than {MAX_DEPTH} levels")
        for child, item in value.items():
            _check_extra(f"{key}.{child}", item, depth + 1)
    elif isinstance(value, str):
        if len(value) > MAX_LABEL:
            raise Refused(f"{key}: a text of {len(value)} characters is not a label")
    elif not isinstance(value, bool):
        _number(key, value, *metric_bounds(key))


def check_summary(summary: Any) -> dict[str, Any]:
    """``summary`` itself when it satisfies the schema (see the module docstring).

    Raises:
        Refused: the first problem found, naming the key.
    """
    if not isinstance(summary, dict):
        raise Refused(f"not a JSON object but {type(summary).__name__}")
    absent = [key for key in SUMMARY_SCHEMA if key not in summary]
    if absent:
        raise Refused(f"lacks {', '.join(absent)}")
    for key, value in summary.items():
        kind = SUMMARY_SCHEMA.get(key) or SUMMARY_SCHEMA_V2.get(key)
        if kind is not None:
            _check_kind(key, value, kind)
        else:
            _check_extra(str(key), value, 1)
    for year in summary["relapse_rate_by_year"]:
        if not str(year).isdigit():
            raise Refused(f"relapse_rate_by_year: {_show(year)} is not a year")
    return summary


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Refused(f"{what} is not a list of strings")
    return value


def check_overrides(overrides: Any) -> list[str]:
    """The overrides of a run (``.hydra/overrides.yaml``): a list of strings.

    Raises:
        Refused: anything else.
    """
    return _strings(overrides, "the content")


def check_plan(plan: Any) -> dict[str, Any]:
    """A sweep plan (``sweep_plan.json``) with ``runs`` and, when recorded, ``command``/``fixed``.

    Raises:
        Refused: ``runs`` absent or not a list of lists of strings, or ``command`` or ``fixed``
            not a list of strings.
    """
    if not isinstance(plan, dict):
        raise Refused(f"not a JSON object but {type(plan).__name__}")
    if not isinstance(plan.get("runs"), list):
        raise Refused("runs: absent or not a list")
    for job, run in enumerate(plan["runs"]):
        _strings(run, f"runs[{job}]")
    for key in ("command", "fixed"):
        if key in plan:
            _strings(plan[key], key)
    return plan


def check_error(error: Any) -> dict[str, Any]:
    """A failure record (``error.json``): an object whose ``type``/``message`` are strings.

    Raises:
        Refused: anything else.
    """
    if not isinstance(error, dict):
        raise Refused(f"not a JSON object but {type(error).__name__}")
    for key in ("type", "message"):
        if key in error and not isinstance(error[key], str):
            raise Refused(f"{key}: {_show(error[key])} is not a string")
    return error


def check_mapping(content: Any) -> dict[str, Any]:
    """A YAML mapping (``config.yaml``, ``multirun.yaml``).

    Raises:
        Refused: anything else.
    """
    if not isinstance(content, dict):
        raise Refused(f"not a mapping but {type(content).__name__}")
    return content
