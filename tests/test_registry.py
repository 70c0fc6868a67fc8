"""The policies are declared once: the order, the registry, the schema, the YAML and the docs agree.

The order in which policies act changes results (monitoring reads the month's expenditure before
medical relief pays part of it; the safety net tops up what every other policy left), so it is
pinned here and every place that lists the policies must list the same ones in the same order.
"""

from __future__ import annotations

import re
import typing
from dataclasses import fields
from pathlib import Path

import yaml

from sim.config import CONFIG_DIR
from sim.engine.model import PovertyModel
from sim.policies import ORDER, REGISTRY, PoliciesConfig
from sim.policies.base import Policy, PolicyConfig

NAMES = [
    "monitoring",
    "medical_relief",
    "workshops",
    "public_jobs",
    "training",
    "relocation",
    "east_west",
    "industry",
    "safety_net",
]
DOCS = Path(__file__).resolve().parent.parent / "docs" / "policies.md"


def test_the_order_of_the_policies_is_pinned():
    assert [policy.name for policy in ORDER] == NAMES
    assert list(REGISTRY) == NAMES
    assert all(REGISTRY[name].name == name for name in NAMES)


def test_the_model_runs_the_enabled_policies_in_that_order(small):
    model = PovertyModel(small("policy=all", "years=1"))
    assert [policy.name for policy in model.policies] == NAMES
    some = PovertyModel(small("policy=none", "policies.safety_net.enabled=true", "years=1"))
    assert [policy.name for policy in some.policies] == ["safety_net"]


def test_the_schema_has_one_node_per_policy_in_order_of_the_policys_config_type():
    assert [f.name for f in fields(PoliciesConfig)] == NAMES
    hints = typing.get_type_hints(PoliciesConfig)
    for policy in ORDER:
        assert hints[policy.name] is policy.config_type, policy.name
        assert issubclass(policy.config_type, PolicyConfig)
        (generic,) = [b for b in policy.__orig_bases__ if typing.get_origin(b) is Policy]
        assert typing.get_args(generic) == (policy.config_type,), policy.name


def test_the_entry_config_lists_the_policy_files_in_order():
    defaults = yaml.safe_load((CONFIG_DIR / "config.yaml").read_text())["defaults"]
    listed = [
        entry.split("@")[0].removeprefix("policies/")
        for entry in defaults
        if isinstance(entry, str) and entry.startswith("policies/")
    ]
    assert listed == NAMES
    assert sorted(p.stem for p in (CONFIG_DIR / "policies").glob("*.yaml")) == sorted(NAMES)
    for name in NAMES:
        first = (CONFIG_DIR / "policies" / f"{name}.yaml").read_text().splitlines()[0]
        assert first == f"# @package policies.{name}"


def test_the_documentation_names_the_policies_in_order():
    text = DOCS.read_text()
    sections = re.findall(r"^## (\w+) — ", text, flags=re.MULTILINE)
    assert sections == NAMES
    order_section = text.split("\n## Order", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^\d+\. `(\w+)`", order_section, flags=re.MULTILINE) == NAMES
