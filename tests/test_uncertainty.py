"""Declared uncertainty: every range is a real key, holds its default, lies in the schema."""

from __future__ import annotations

import re
from operator import attrgetter
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.config import CONFIG_DIR, compose
from sim.params import ConfigError
from sim.studies.uncertainty import (
    fixed_assumptions,
    load_uncertainty,
    markdown_table,
    schema_range,
)

ROOT = Path(__file__).resolve().parent.parent
DECLARED = load_uncertainty()
DEFAULTS = compose()


def default(key: str) -> float:
    return attrgetter(key)(DEFAULTS)


def test_every_declared_key_exists_and_its_default_lies_in_its_range():
    assert len(DECLARED) >= 40
    for key, p in DECLARED.items():
        assert p.low <= default(key) <= p.high, key
        assert p.reason.strip(), key


def test_every_declared_range_lies_in_the_schemas_allowed_range():
    for key, p in DECLARED.items():
        schema = schema_range(key)
        if schema.lo is not None:
            assert p.low > schema.lo if schema.open_lo else p.low >= schema.lo, key
        if schema.hi is not None:
            assert p.high <= schema.hi, key
        assert p.integer == (schema.type is int), key


def assumptions_in_configs() -> set[str]:
    """Keys whose value the configs mark as an assumption (the comment starts with it)."""
    files = {"population": CONFIG_DIR / "population" / "default.yaml"}
    files["shocks"] = CONFIG_DIR / "shocks" / "default.yaml"
    for path in sorted((CONFIG_DIR / "policies").glob("*.yaml")):
        files[f"policies.{path.stem}"] = path
    pattern = re.compile(r"^(\w+):\s*[^#\s]+\s*#\s*assumption", re.IGNORECASE)
    return {
        f"{prefix}.{match.group(1)}"
        for prefix, path in files.items()
        for line in path.read_text().splitlines()
        if (match := pattern.match(line))
    }


def test_every_assumption_in_the_configs_is_declared_uncertain_or_fixed_with_a_reason():
    fixed = fixed_assumptions()
    assert not set(fixed) & set(DECLARED)
    for key, reason in fixed.items():
        default(key)  # exists
        assert reason.strip(), key
    missing = assumptions_in_configs() - set(DECLARED) - set(fixed)
    assert not missing, f"assumptions without a declared range: {sorted(missing)}"


def test_values_follow_the_declared_distribution():
    uniform = DECLARED["shocks.hospital_cost_sigma"]
    assert uniform.values(np.array([0.0, 0.5, 1.0])).tolist() == [0.7, 1.0, 1.3]
    log = DECLARED["shocks.hospital_cost_median"]
    assert log.values(np.array([0.5]))[0] == pytest.approx(np.sqrt(3500 * 10000), rel=1e-5)
    whole = DECLARED["policies.monitoring.delay_months"]  # integer, 0-3
    drawn = whole.values((np.arange(400) + 0.5) / 400)
    assert set(drawn) == {0.0, 1.0, 2.0, 3.0}
    assert [int((drawn == v).sum()) for v in range(4)] == [100, 100, 100, 100]
    assert whole.values(np.array([0.0, 1.0])).tolist() == [0.0, 3.0]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"shocks.no_such_rate": {"low": 0, "high": 1}}, "shocks.no_such_rate"),
        ({"shocks.reimbursement_rate": {"low": 0.5, "high": 1.2}}, "schema"),
        ({"shocks.reimbursement_rate": {"low": 0.6, "high": 0.5}}, "low < high"),
        ({"shocks.hospital_cost_median": {"low": 0, "high": 9, "dist": "loguniform"}}, "low > 0"),
        ({"shocks.recovery_months": {"low": 1.5, "high": 6}}, "integer"),
        ({"shocks.reimbursement_rate": {"low": 0.4, "high": 0.6, "dist": "beta"}}, "dist=beta"),
    ],
)
def test_a_bad_declaration_is_one_line_naming_the_key(tmp_path, entry, message):
    key, fields = next(iter(entry.items()))
    full = {"dist": "uniform", "reason": "test", **fields}
    path = tmp_path / "ranges.yaml"
    path.write_text(yaml.safe_dump({"parameters": {key: full}}))
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        load_uncertainty(path)
    assert key in str(raised.value) and "\n" not in str(raised.value)


def test_docs_model_shows_the_declared_ranges():
    """docs/model.md holds the table that ``python -m sim.studies.uncertainty`` prints."""
    table = markdown_table(DECLARED, {key: default(key) for key in DECLARED})
    assert table in (ROOT / "docs" / "model.md").read_text()
