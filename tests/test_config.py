"""Configs: the YAML files and the schema agree, and every default cites its source."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields, is_dataclass

import pytest
from omegaconf import OmegaConf

from sim.config import CONFIG_DIR, compose, load_config
from sim.params import (
    ConfigError,
    allowed,
    allowed_at,
    bounded,
    check_fields,
    probability,
    required,
)
from sim.policies.base import PolicyConfig

SOURCE = re.compile(r"#.*\b(S\d+|seed|assumption|calibrated|issue \d+)\b", re.IGNORECASE)


def default_files():
    """The files that hold defaults (scenario variants such as shocks/severe only override)."""
    policies = sorted((CONFIG_DIR / "policies").glob("*.yaml"))
    return [CONFIG_DIR / "population/default.yaml", CONFIG_DIR / "shocks/default.yaml", *policies]


@pytest.mark.parametrize("path", default_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_default_names_its_source(path):
    """Each `key: value` line of a parameter file carries a SOURCES.md row, the seed or an
    assumption (`enabled` switches and `defaults` lists excepted)."""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "-", "defaults:", "enabled:")):
            continue
        assert SOURCE.search(line), f"{path.name}: no source for {stripped!r}"


@pytest.mark.parametrize("overrides", [[], ["shocks=none"], ["shocks=severe"], ["policy=all"]])
def test_configs_compose_and_validate(overrides):
    cfg = compose(overrides)
    assert cfg.population.households == 20000


def test_small_population_overrides_only_the_size():
    small, default = compose(["population=small"]).population, compose([]).population
    assert small.households < default.households
    assert small.income_lifted_mean == default.income_lifted_mean


def test_unknown_key_and_missing_value_are_config_errors():
    cfg = OmegaConf.create({"seed": 1, "colour": "red"})
    with pytest.raises(ConfigError, match="colour"):
        load_config(cfg)
    with pytest.raises(ConfigError, match="years"):
        load_config(OmegaConf.create({"seed": 1}))


def test_shares_that_cannot_add_up_are_rejected():
    with pytest.raises(ConfigError, match="share_lifted"):
        compose(["population.share_lifted=0.8", "population.share_marginal=0.3"])


def test_property_and_pension_shares_leave_labour_a_non_negative_share():
    with pytest.raises(ConfigError, match=r"property_share \+ population\.pension_share"):
        compose(["population.property_share=0.95"])


def test_a_range_needs_two_finite_ordered_bounds():
    with pytest.raises(TypeError):
        bounded(0.0)  # type: ignore[call-arg]
    for lo, hi in [(0.0, math.inf), (-math.inf, 1.0), (math.nan, 1.0), (1.0, 1.0), (2.0, 1.0)]:
        with pytest.raises(ValueError, match="finite bounds"):
            bounded(lo, hi)


def test_a_refusal_names_the_key_the_value_and_the_range():
    refusals = {
        "poverty.line=1e308": "poverty.line=1e+308 is out of range: allowed (0, 100000]",
        "poverty.monitoring_threshold_ratio=1.0": (
            "poverty.monitoring_threshold_ratio=1.0 is out of range: allowed (1.02, 3]"
        ),
        "shocks.hospitalisation_rate=nan": (
            "shocks.hospitalisation_rate=nan is out of range: allowed [0, 1]"
        ),
        "output.plots=2": "output.plots=2 is not a boolean: allowed true or false",
        "policies.monitoring.enabled=yes": (
            "policies.monitoring.enabled=yes is not a boolean: allowed true or false"
        ),
        "population.households=2.5": (
            "population.households: Value '2.5' of type 'float' could not be converted to "
            "Integer: allowed [1, 10000000]"
        ),
    }
    for override, message in refusals.items():
        with pytest.raises(ConfigError) as refused:
            compose([override])
        assert str(refused.value) == message


def test_a_boolean_given_through_an_interpolation_is_still_a_boolean():
    cfg = compose(["output.plots=${output.progress}", "output.progress=false"])
    assert cfg.output.plots is False
    with pytest.raises(ConfigError, match=r"output\.plots=1 is not a boolean"):
        compose(["output.plots=${years}", "years=1"])


@dataclass
class _CustomPolicyConfig:
    """A researcher's own policy config, declared with the same helpers as the built-in ones."""

    enabled: bool = required()
    take_up: float = probability()
    grant_yuan: float = bounded(0.0, 1e5)


def test_a_custom_policy_config_is_checked_with_the_same_helpers():
    raw = OmegaConf.create({"policies": {"mine": {"enabled": True, "take_up": 2.0}}})
    cfg = _CustomPolicyConfig(enabled=True, take_up=2.0, grant_yuan=10.0)
    with pytest.raises(ConfigError, match=r"^policies\.mine\.take_up=2\.0 .* allowed \[0, 1\]$"):
        check_fields(cfg, raw, "policies.mine.")
    check_fields(_CustomPolicyConfig(True, 0.5, 1e5), raw, "policies.mine.")
    assert allowed_at(_CustomPolicyConfig, "grant_yuan") == "[0, 100000]"


def schema_fields(node, path=""):
    for f in fields(node):
        value = getattr(node, f.name)
        if is_dataclass(value):
            yield from schema_fields(value, f"{path}{f.name}.")
        else:
            yield f"{path}{f.name}", f


def allowed_column(doc: str) -> dict[str, str]:
    """Key -> the ``allowed`` cell of every table of ``doc`` that has that column."""
    cells, column = {}, None
    for line in (CONFIG_DIR.parent / "docs" / doc).read_text().splitlines():
        row = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|"):
            column = None
        elif "allowed" in row:
            column = row.index("allowed")
        elif column is not None and (key := re.fullmatch(r"`([\w.]+)`", row[0])):
            cells[key[1]] = row[column]
    return cells


def test_docs_give_the_allowed_range_of_every_parameter():
    documented = allowed_column("model.md") | allowed_column("policies.md")
    calendar = {f.name for f in fields(PolicyConfig)}  # documented once, in docs/policies.md
    for key, f in schema_fields(compose([])):
        if key.startswith("output.") or (key.startswith("policies.") and f.name in calendar):
            continue
        if allowed(f) is None:  # an option (enum), not a range
            continue
        assert documented.get(key) == allowed(f), f"docs: allowed range of {key}"
