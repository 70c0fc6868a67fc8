"""Safety net (dibao): tops up households without working capacity to a guaranteed income.

Who: households registered as having no member able to work (disability or age certification,
S11); their income is administrative (pensions, subsidies) and their hospital bills and disaster
claims reach civil affairs through the integrated data the seed describes, so the monthly top-up
uses what the office can see: regular income and reported shock expenditure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.params import bounded
from sim.policies.base import Policy, PolicyConfig, PolicyContext


@dataclass
class SafetyNetConfig(PolicyConfig):
    """Parameters of ``policies.safety_net`` (defaults in ``configs/policies/safety_net.yaml``)."""

    # yuan per person per year; up to 100,000, the highest poverty line allowed
    guarantee_per_capita: float = bounded(0.0, 1e5)
    # yuan per enrolled household per year; up to 100,000: far above any means test
    admin_cost_per_household: float = bounded(0.0, 1e5)


class SafetyNet(Policy[SafetyNetConfig]):
    """Monthly top-up of enrolled households to the guarantee, net of reported shock costs.

    Enrolled are the households without working capacity at the start, and the households the
    monitoring policy enrols during the run (``state.safety_net``). Administration is booked
    monthly for the households enrolled in that month.
    """

    name = "safety_net"
    config_type = SafetyNetConfig

    def __init__(self, cfg: SafetyNetConfig, ctx: PolicyContext):
        super().__init__(cfg, ctx)
        state = ctx.state
        state.safety_net[:] = state.workers == 0
        self.ever_enrolled = state.safety_net.copy()

    def step(self, ctx: PolicyContext) -> None:
        """Pay each enrolled household the gap between its guarantee and its month's net income."""
        s = ctx.state
        guarantee = self.cfg.guarantee_per_capita * s.size / 12
        net_income = s.income_month + s.policy_transfers_month - s.expense_month
        gap = np.where(s.safety_net, np.maximum(guarantee - net_income, 0.0), 0.0)
        paid = gap > 0
        ctx.ledger.transfer(self.name, paid, gap[paid])
        # Households monitoring enrols during the run are administered from their first month.
        self.ever_enrolled |= s.safety_net
        admin = s.safety_net.sum() * self.cfg.admin_cost_per_household / 12
        ctx.ledger.spend_overhead(self.name, admin)

    def metrics(self) -> dict[str, Any]:
        """Households enrolled at any time during the run."""
        return {"safety_net_enrolled": int(self.ever_enrolled.sum())}
