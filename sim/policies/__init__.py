"""Policy modules and their explicit registry.

``REGISTRY`` maps a policy name to its config dataclass and its rule; its order is the order in
which enabled policies act each month. ``PoliciesConfig`` has one node per policy, filled from
``configs/policies/<name>.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from sim.policies.base import Policy
from sim.policies.east_west import EastWest, EastWestConfig
from sim.policies.industry import Industry, IndustryConfig
from sim.policies.medical_relief import MedicalRelief, MedicalReliefConfig
from sim.policies.monitoring import Monitoring, MonitoringConfig
from sim.policies.relocation import Relocation, RelocationConfig
from sim.policies.safety_net import SafetyNet, SafetyNetConfig
from sim.policies.training import Training, TrainingConfig
from sim.policies.workshops import Workshops, WorkshopsConfig

if TYPE_CHECKING:
    from sim.engine.model import PovertyModel

REGISTRY: dict[str, type[Policy]] = {
    Monitoring.name: Monitoring,
    MedicalRelief.name: MedicalRelief,
    Workshops.name: Workshops,
    Training.name: Training,
    Relocation.name: Relocation,
    EastWest.name: EastWest,
    Industry.name: Industry,
    SafetyNet.name: SafetyNet,
}


@dataclass
class PoliciesConfig:
    """One config node per policy (``policies.<name>``)."""

    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)
    medical_relief: MedicalReliefConfig = field(default_factory=MedicalReliefConfig)
    workshops: WorkshopsConfig = field(default_factory=WorkshopsConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    relocation: RelocationConfig = field(default_factory=RelocationConfig)
    east_west: EastWestConfig = field(default_factory=EastWestConfig)
    industry: IndustryConfig = field(default_factory=IndustryConfig)
    safety_net: SafetyNetConfig = field(default_factory=SafetyNetConfig)


def build_policies(cfg: PoliciesConfig, model: PovertyModel) -> list[Policy]:
    """Instantiate the enabled policies in registry order."""
    nodes: dict[str, Any] = {f.name: getattr(cfg, f.name) for f in fields(cfg)}
    return [REGISTRY[name](nodes[name], model) for name in REGISTRY if nodes[name].enabled]
