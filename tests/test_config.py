"""Configs: the YAML files and the schema agree, and every default cites its source."""

from __future__ import annotations

import re

import pytest
from omegaconf import OmegaConf

from sim.config import CONFIG_DIR, compose, load_config
from sim.params import ConfigError

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
