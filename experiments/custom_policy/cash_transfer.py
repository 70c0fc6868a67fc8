"""A cash transfer to the households monitoring colours at risk: a policy written outside ``sim/``.

The example of docs/policies.md, "Write your own policy". ``experiments/custom_policy.yaml``
enables it, with monitoring, as node ``policies.colour_cash_transfer``::

    python -m sim +experiment=custom_policy

- **Who.** Households whose monitoring colour (``state.risk_colour``) is ``min_colour`` or
  worse this month. The policy observes the colour only: without the ``monitoring`` policy every
  household stays green and nobody is paid.
- **What.** ``transfer_per_person_monthly`` yuan per household member, paid each month the
  household is coloured, at most ``months_per_year`` times in a calendar year; a ledger transfer,
  so it is income and this policy's cost. ``admin_cost_per_payment`` per payment is overhead.
- **When.** Every month, after the built-in policies (monitoring has coloured the month by then).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from sim.engine.state import ORANGE, RED, YELLOW
from sim.params import bounded, required
from sim.policies.base import Policy, PolicyConfig, PolicyContext


class Colour(IntEnum):
    """The risk colours that can trigger the transfer (codes of ``state.risk_colour``)."""

    yellow = YELLOW
    orange = ORANGE
    red = RED


@dataclass
class ColourCashTransferConfig(PolicyConfig):
    """Parameters of ``policies.colour_cash_transfer`` (defaults in the experiment's YAML)."""

    # the least severe colour paid: yellow, orange or red (ruff cannot tell an enum is immutable)
    min_colour: Colour = required()
    # yuan per person per month; up to 10,000: 30 months at the poverty line (S4) in one month
    transfer_per_person_monthly: float = bounded(0.0, 1e4)
    months_per_year: int = bounded(1, 12)  # payments per household per calendar year, at most
    # yuan per payment, overhead; up to 1,000: far above the cost of a bank transfer
    admin_cost_per_payment: float = bounded(0.0, 1e3)


class ColourCashTransfer(Policy[ColourCashTransferConfig]):
    """Monthly cash per person to households coloured ``min_colour`` or worse."""

    name = "colour_cash_transfer"
    config_type = ColourCashTransferConfig

    def __init__(self, cfg: ColourCashTransferConfig, ctx: PolicyContext):
        super().__init__(cfg, ctx)
        self.payments_this_year = np.zeros(ctx.households, np.int16)
        self.ever_paid = np.zeros(ctx.households, bool)
        self.payments = 0

    def start_year(self, ctx: PolicyContext) -> None:
        """A new calendar year: every household may be paid ``months_per_year`` times again."""
        self.payments_this_year[:] = 0

    def step(self, ctx: PolicyContext) -> None:
        """Pay this month's coloured households that have payments left this year."""
        s, cfg = ctx.state, self.cfg
        paid = np.flatnonzero(
            (s.risk_colour >= cfg.min_colour) & (self.payments_this_year < cfg.months_per_year)
        )
        ctx.ledger.transfer(self.name, paid, cfg.transfer_per_person_monthly * s.size[paid])
        ctx.ledger.spend_overhead(self.name, paid.size * cfg.admin_cost_per_payment)
        self.payments_this_year[paid] += 1
        self.ever_paid[paid] = True
        self.payments += paid.size

    def metrics(self) -> dict[str, Any]:
        """Payments over the run and the households ever paid."""
        return {
            "colour_cash_transfer_payments": self.payments,
            "colour_cash_transfer_households": int(self.ever_paid.sum()),
        }
