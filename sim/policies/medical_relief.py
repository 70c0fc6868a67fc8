"""Medical relief: extra reimbursement, an out-of-pocket cap and relief grants for large bills.

Who: registered lifted households (``initial_status == LIFTED``) and households the monitoring
colours orange or red (``state.risk_colour >= ORANGE``; none when monitoring is off). Eligibility
is re-read every month.

What the policy observes: the month's hospital bills of eligible households and their
out-of-pocket part after basic insurance (``state.medical_cost_month`` and
``state.medical_oop_month``, as the one-stop hospital settlement sees them), and what it has paid
itself. It never sees income or savings.

Each month, for each eligible household with a bill ``B`` and out-of-pocket cost ``O`` (so
``B - O`` is already reimbursed), three layers apply in order, all paid through
``ledger.cover_expense`` (the money settles the bill; it is not income):

1. **Reimbursement top-up** to an effective ``reimbursement_rate`` of the bill (about 80% for the
   registered poor after basic insurance, critical-illness insurance and medical aid, S14):
   ``max(0, reimbursement_rate * B - (B - O))``.
2. **Annual out-of-pocket cap**: what remains is added to the household's out-of-pocket cost of
   the year (counted while it is eligible, reset each January); the part above ``oop_cap_yuan``
   is paid.
3. **Relief grant**: ``relief_grant_share`` of that year's out-of-pocket cost (after layers 1 and
   2) above ``relief_threshold_yuan``, paid month by month as the cost accrues. With the defaults
   a 10,000-yuan out-of-pocket bill (a 22,200-yuan bill at the basic 55% reimbursement) is
   relieved by about 7,300 yuan, the seed's case (S24: 7,000 yuan on 10,000).

Hence a household's out-of-pocket cost in a year is at most ``relief_threshold_yuan + (1 -
relief_grant_share) * (oop_cap_yuan - relief_threshold_yuan)`` (2,900 yuan with the defaults),
and a month's payment never exceeds the month's medical out-of-pocket cost;
``state.medical_oop_month`` is reduced by what is paid. ``admin_cost_per_household`` per eligible
household per year is booked as overhead each month (one twelfth per eligible household).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.params import bounded, probability
from sim.policies.base import Policy, PolicyConfig, PolicyContext

LAYERS = ("reimbursement", "oop_cap", "relief_grant")


@dataclass
class MedicalReliefConfig(PolicyConfig):
    """Parameters of ``policies.medical_relief`` (defaults in its YAML file)."""

    reimbursement_rate: float = probability()  # effective share of the bill reimbursed
    # yuan of out-of-pocket cost per household per year; up to 10 M: above any bill the shock
    # ranges make likely, so the cap can be switched off
    oop_cap_yuan: float = bounded(0.0, 1e7)
    relief_threshold_yuan: float = bounded(0.0, 1e7)  # yuan per household per year; as the cap
    relief_grant_share: float = probability()  # share of out-of-pocket cost above the threshold
    # yuan per eligible household per year; up to 100,000: far above any administration cost
    admin_cost_per_household: float = bounded(0.0, 1e5)


class MedicalRelief(Policy[MedicalReliefConfig]):
    """Pays part of eligible households' hospital bills in three layers (module docstring)."""

    name = "medical_relief"
    config_type = MedicalReliefConfig

    def __init__(self, cfg: MedicalReliefConfig, ctx: PolicyContext):
        super().__init__(cfg, ctx)
        s = ctx.state
        self._oop_ytd = np.zeros(s.count)  # after layers 1 and 2, while eligible, this year
        self._ever_eligible = np.zeros(s.count, bool)
        self._paid_by_layer = dict.fromkeys(LAYERS, 0.0)

    def start_year(self, ctx: PolicyContext) -> None:
        """Restart the year's out-of-pocket count."""
        self._oop_ytd[:] = 0.0

    def step(self, ctx: PolicyContext) -> None:
        """Pay the three layers on eligible households' bills of the month."""
        s, cfg = ctx.state, self.cfg
        eligible = self.targeted(s)
        self._ever_eligible |= eligible
        ctx.ledger.spend_overhead(
            self.name, int(np.count_nonzero(eligible)) * cfg.admin_cost_per_household / 12
        )
        billed = np.flatnonzero(eligible & (s.medical_oop_month > 0))
        bill = s.medical_cost_month[billed]
        out_of_pocket = s.medical_oop_month[billed]
        top_up = np.clip(cfg.reimbursement_rate * bill - (bill - out_of_pocket), 0.0, out_of_pocket)
        remaining = out_of_pocket - top_up
        before = self._oop_ytd[billed]
        above_cap = np.clip(before + remaining - cfg.oop_cap_yuan, 0.0, remaining)
        after = before + remaining - above_cap
        threshold = cfg.relief_threshold_yuan
        grant = cfg.relief_grant_share * (
            np.maximum(after - threshold, 0.0) - np.maximum(before - threshold, 0.0)
        )
        self._oop_ytd[billed] = after
        top_up, above_cap, grant = (self.intensity * layer for layer in (top_up, above_cap, grant))
        paid = top_up + above_cap + grant
        self.cover(ctx, billed, paid)
        s.medical_oop_month[billed] -= paid
        for layer, amounts in zip(LAYERS, (top_up, above_cap, grant), strict=True):
            self._paid_by_layer[layer] += float(amounts.sum())

    def metrics(self) -> dict[str, Any]:
        """Households ever eligible and the money paid, in total and by layer (yuan)."""
        return {
            "medical_relief_eligible": int(self._ever_eligible.sum()),
            "medical_relief_paid_yuan": float(sum(self._paid_by_layer.values())),
            "medical_relief_paid_by_layer_yuan": dict(self._paid_by_layer),
        }
