"""Policy modules, the order in which they act, and custom policies enabled from config.

:data:`ORDER` is the one place that says which built-in policies exist and in which order the
enabled ones act in every phase of a month (docs/policies.md, "Order", gives the reason for each
position); :data:`REGISTRY` and the model's schedule follow from it. :class:`PoliciesConfig` has
one node per built-in policy, filled from ``configs/policies/<name>.yaml`` (a test checks that the
two, the entry config's defaults list and the documentation name the same policies in the same
order).

A researcher's own policy is a :class:`~sim.policies.base.Policy` subclass in their own module,
enabled by a node ``policies.<name>`` whose ``_target_`` is the class's import path
(:func:`custom_policy_class`); :func:`sim.config.load_config` checks its parameters against the
class's ``config_type`` and keeps it in :attr:`PoliciesConfig.custom`. Custom policies act after
the built-in ones, in the order their nodes appear in the config.
"""

from __future__ import annotations

import pkgutil
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sim.params import ConfigError
from sim.policies.base import Policy, PolicyConfig, PolicyContext
from sim.policies.east_west import EastWest, EastWestConfig
from sim.policies.industry import Industry, IndustryConfig
from sim.policies.medical_relief import MedicalRelief, MedicalReliefConfig
from sim.policies.monitoring import Monitoring, MonitoringConfig
from sim.policies.public_jobs import PublicJobs, PublicJobsConfig
from sim.policies.relocation import Relocation, RelocationConfig
from sim.policies.safety_net import SafetyNet, SafetyNetConfig
from sim.policies.training import Training, TrainingConfig
from sim.policies.workshops import Workshops, WorkshopsConfig

ORDER: tuple[type[Policy[Any]], ...] = (
    Monitoring,
    MedicalRelief,
    Workshops,
    PublicJobs,
    Training,
    Relocation,
    EastWest,
    Industry,
    SafetyNet,
)
"""The built-in policies in the order they act in each phase of a month."""

REGISTRY: dict[str, type[Policy[Any]]] = {policy.name: policy for policy in ORDER}
"""Built-in policy classes by name (the key of their config node)."""


@dataclass(frozen=True)
class CustomPolicy:
    """A researcher's policy enabled from config: its class and its checked parameters."""

    policy_class: type[Policy[Any]]
    cfg: PolicyConfig


@dataclass
class PoliciesConfig:
    """One config node per built-in policy (``policies.<name>``), in :data:`ORDER`.

    ``custom`` holds the custom policies by name (nodes with a ``_target_``); it is filled by
    :func:`sim.config.load_config` and is not part of the schema, whose keys are fixed.
    """

    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)
    medical_relief: MedicalReliefConfig = field(default_factory=MedicalReliefConfig)
    workshops: WorkshopsConfig = field(default_factory=WorkshopsConfig)
    public_jobs: PublicJobsConfig = field(default_factory=PublicJobsConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    relocation: RelocationConfig = field(default_factory=RelocationConfig)
    east_west: EastWestConfig = field(default_factory=EastWestConfig)
    industry: IndustryConfig = field(default_factory=IndustryConfig)
    safety_net: SafetyNetConfig = field(default_factory=SafetyNetConfig)

    def __post_init__(self) -> None:
        self.custom: dict[str, CustomPolicy] = {}

    def in_order(self) -> list[tuple[type[Policy[Any]], PolicyConfig]]:
        """Every policy with its config, built-in ones in :data:`ORDER`, then custom ones."""
        nodes: dict[str, PolicyConfig] = {f.name: getattr(self, f.name) for f in fields(self)}
        built_in = [(policy, nodes[policy.name]) for policy in ORDER]
        return built_in + [(c.policy_class, c.cfg) for c in self.custom.values()]


def build_policies(cfg: PoliciesConfig, ctx: PolicyContext) -> list[Policy[Any]]:
    """Instantiate the enabled policies whose calendar meets the run, in the order they act.

    A policy whose window misses every year of the run (``ctx.first_year`` to
    ``ctx.last_year``) is not built: it is bit-identical to the policy disabled (no lottery
    drawn, no metric, no cost line).
    """
    return [
        policy(node, ctx)
        for policy, node in cfg.in_order()
        if node.enabled and node.active_in(ctx.first_year, ctx.last_year)
    ]


def custom_policy_class(name: str, target: Any, search: Path) -> type[Policy[Any]]:
    """The policy class that node ``policies.<name>`` names in its ``_target_``.

    ``target`` is an import path, ``package.module.Class``. The module must be importable in
    every process that runs the model (sweep workers included): installed, on ``PYTHONPATH``,
    or in the folder ``search`` (the experiments folder, added to the end of ``sys.path`` here,
    so that an experiment's own policy code is found from the source tree and from an installed
    package alike).

    Raises:
        ConfigError: one line naming ``policies.<name>``: the name is a built-in policy's, the
            class cannot be imported, is not a :class:`Policy`, or has another ``name``.
    """
    key = f"policies.{name}"
    if name in REGISTRY:
        raise ConfigError(
            f"{key}._target_: {name} is a built-in policy; give your policy another name"
        )
    if str(search) not in sys.path:
        sys.path.append(str(search))
    try:
        found = pkgutil.resolve_name(str(target))
    except Exception as exc:  # any failure of the user's module, reported in one line
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"{key}._target_={target}: cannot import it ({reason}); the module must be "
            "installed, on PYTHONPATH or in the experiments folder"
        ) from None
    if not (isinstance(found, type) and issubclass(found, Policy)):
        raise ConfigError(f"{key}._target_={target} is not a subclass of sim.policies.base.Policy")
    if getattr(found, "name", None) != name:
        raise ConfigError(
            f"{key}._target_={target} is named {getattr(found, 'name', None)!r}: put its node "
            "under policies.<its name>"
        )
    config_type = getattr(found, "config_type", None)
    if not (isinstance(config_type, type) and issubclass(config_type, PolicyConfig)):
        raise ConfigError(f"{key}._target_={target}: its config_type is not a PolicyConfig")
    return found
