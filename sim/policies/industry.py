"""Industrial projects: registered households switch to cash crops with technical support.

The seed (S24) reports 980,000 industrial projects covering 92% of poor households. Every
January the policy enrols, by lottery from its own stream, registered lifted households
(``initial_status == LIFTED``) that have at least one farm worker, until ``coverage`` of all
registered households are enrolled; enrolled households stay enrolled. An enrolled household
switches to a cash crop: ``state.cash_crop`` is set, so the model applies the cash-crop price
shock (``shocks.price_sigma_cash_crop``) to its farm income instead of the staple one, and its
normal farm income rises once by ``farm_income_uplift``. Expected farm income rises; so does its
price risk.

Costs: technical support (extension staff, cooperatives' services) of
``support_cost_per_household`` yuan per enrolled household per year, and a one-off start-up
package of ``startup_subsidy`` yuan per newly enrolled household given in kind (seedlings,
livestock, inputs). Both are overhead: no household receives them as income.

What the policy observes: registered status and the household's farm workers. Not represented:
yield risk of the new crop (pests, crop failure, failed projects), market access beyond the
common price shock, the labour a cash crop needs, and projects outside farming (processing,
tourism, photovoltaics).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.params import bounded, probability
from sim.policies.base import Policy, PolicyConfig, PolicyContext


@dataclass
class IndustryConfig(PolicyConfig):
    """Parameters of ``policies.industry`` (defaults in ``configs/policies/industry.yaml``)."""

    coverage: float = probability()  # share of registered households enrolled at most
    farm_income_uplift: float = bounded(0.0, 5.0)  # share added to normal farm income
    # yuan per enrolled household per year; up to 100,000: far above any extension service
    support_cost_per_household: float = bounded(0.0, 1e5)
    # yuan per newly enrolled household, once, in kind; up to 1 M: a whole orchard or herd
    startup_subsidy: float = bounded(0.0, 1e6)


class Industry(Policy[IndustryConfig]):
    """Annual enrolment in cash-crop projects; support and start-up costs as overhead."""

    name = "industry"
    config_type = IndustryConfig

    def __init__(self, cfg: IndustryConfig, ctx: PolicyContext):

        super().__init__(cfg, ctx)
        self.capacity = int(cfg.coverage * self.registered.sum())
        self.enrolled = np.zeros(ctx.state.count, bool)

    def start_year(self, ctx: PolicyContext) -> None:
        """Enrol eligible households up to the coverage cap and book the year's costs."""
        s = ctx.state
        eligible = np.flatnonzero(self.registered & ~self.enrolled & (s.farm_workers > 0))
        places = int(self.capacity * self.intensity) - int(self.enrolled.sum())
        new = self.rng.permutation(eligible)[: max(places, 0)]
        self.enrolled[new] = True
        s.cash_crop[new] = True
        s.farm_income[new] *= 1.0 + self.cfg.farm_income_uplift
        ctx.ledger.spend_overhead(
            self.name,
            len(new) * self.cfg.startup_subsidy
            + int(self.enrolled.sum()) * self.cfg.support_cost_per_household * self.intensity,
        )

    def metrics(self) -> dict[str, Any]:
        """Enrolled households at the end of the run."""
        return {"industry_enrolled": int(self.enrolled.sum())}
