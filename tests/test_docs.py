"""The documentation's parameter tables agree with the configs."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from sim.config import compose

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
            assert float(rows[key]) == pytest.approx(float(lookup(cfg, key))), key


def as_number(text: str) -> float:
    booleans = {"true": 1.0, "false": 0.0}
    return booleans[text] if text in booleans else float(text)


def test_policy_doc_rows_match_the_policy_configs():
    cfg = compose([])
    rows = documented("policies.md")
    for policy in fields(cfg.policies):
        for f in fields(getattr(cfg.policies, policy.name)):
            if f.name == "enabled":
                continue
            key = f"policies.{policy.name}.{f.name}"
            assert key in rows, f"docs/policies.md has no row for {key}"
            assert as_number(rows[key]) == pytest.approx(float(lookup(cfg, key))), key
