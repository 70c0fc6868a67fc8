"""The documentation's parameter tables agree with the configs."""

from __future__ import annotations

import re
from dataclasses import fields
from enum import Enum
from pathlib import Path

import pytest

from sim.config import compose
from sim.policies.base import PolicyConfig

DOCS = Path(__file__).resolve().parent.parent / "docs"
ROW = re.compile(r"^\| `([\w.]+)` \| [^|]+ \| ([^|]+) \|")


def documented(doc: str) -> dict[str, str]:
    rows = (ROW.match(line) for line in (DOCS / doc).read_text().splitlines())
    return {m[1]: m[2].strip() for m in rows if m}


def lookup(cfg, dotted: str):
    value = cfg
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def test_model_doc_lists_every_population_and_shock_parameter_with_its_default():
    cfg = compose([])
    rows = documented("model.md")
    for group in ("population", "shocks", "poverty"):
        for f in fields(getattr(cfg, group)):
            key = f"{group}.{f.name}"
            assert key in rows, f"docs/model.md has no row for {key}"
            assert same_value(rows[key], lookup(cfg, key)), key


def same_value(documented: str, value) -> bool:
    """Whether a table cell shows ``value``: an option by its name, a boolean as true/false."""
    if isinstance(value, Enum):
        return documented.strip("`") == value.name
    if isinstance(value, bool):
        return documented == str(value).lower()
    return float(documented) == pytest.approx(float(value))


def test_policy_doc_rows_match_the_policy_configs():
    cfg = compose([])
    rows = documented("policies.md")
    calendar = {f.name for f in fields(PolicyConfig)}  # documented once, for every policy
    for policy in fields(cfg.policies):
        if policy.name == "custom":  # researchers' own policies: none by default
            continue
        for f in fields(getattr(cfg.policies, policy.name)):
            if f.name in calendar:
                continue
            key = f"policies.{policy.name}.{f.name}"
            assert key in rows, f"docs/policies.md has no row for {key}"
            assert same_value(rows[key], lookup(cfg, key)), key


def test_policy_doc_documents_the_calendar_of_every_policy():
    text = (DOCS / "policies.md").read_text()
    for f in fields(PolicyConfig):
        if f.name != "enabled":
            assert f"`{f.name}`" in text, f"docs/policies.md does not explain {f.name}"
