"""The shape every policy has, and what it may see of the model.

A policy is a class ``Policy[C]`` with a config dataclass ``C`` (a :class:`PolicyConfig`, so it
has ``enabled``) and up to three hooks that act on the household arrays. Hooks receive a
:class:`PolicyContext`, the narrow view of the model a policy works through: the household state,
the villages, the ledger, the poverty line and monitoring threshold, the calendar and the year's
public draws (crop prices, a labour-market downturn). A policy acts only on what it could know:
the monitoring system's observations and registered status, never the simulation's hidden true
state. It books every yuan through ``ctx.ledger`` under its own name and draws any lottery from
its own stream, ``self.rng`` (stream ``policy.<name>`` of the run seed).

The built-in policies are listed in :data:`sim.policies.ORDER`; a researcher's own policy is a
subclass of :class:`Policy` in their own module, enabled from config (docs/policies.md, "Write
your own policy").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import numpy as np

from sim.engine.rng import stream
from sim.engine.state import LIFTED, ORANGE
from sim.params import required

if TYPE_CHECKING:
    from sim.engine.ledger import Ledger
    from sim.engine.model import PovertyModel
    from sim.engine.shocks import YearDraws
    from sim.engine.state import HouseholdState, Villages


@dataclass
class PolicyConfig:
    """What every policy's config has: its switch. Subclasses add the policy's parameters."""

    enabled: bool = required()  # the policy acts only when enabled


C = TypeVar("C", bound=PolicyConfig)


class PolicyContext:
    """What a policy may read and use of the model: the view its hooks receive.

    Attributes:
        state: the household arrays and the household rules (:class:`HouseholdState`).
        villages: the villages and resettlement sites (:class:`Villages`).
        ledger: where every yuan a policy spends is booked (:class:`Ledger`).
        line: the poverty line, yuan per person per year.
        monitoring_threshold: the monitoring threshold, yuan per person per year.
    """

    def __init__(self, model: PovertyModel):
        self.state: HouseholdState = model.state
        self.villages: Villages = model.villages
        self.ledger: Ledger = model.ledger
        self.line: float = model.cfg.poverty.line
        self.monitoring_threshold: float = self.line * model.cfg.poverty.monitoring_threshold_ratio
        self._model = model  # read for the calendar and the year's draws only

    @property
    def households(self) -> int:
        """Number of households in the county."""
        return self.state.count

    @property
    def month_index(self) -> int:
        """Months since the start of the run (0 in the first January)."""
        return self._model.month_index

    @property
    def year(self) -> int:
        """Calendar year of the current month."""
        return self._model.year

    @property
    def month_of_year(self) -> int:
        """0 for January .. 11 for December."""
        return self._model.month_of_year

    @property
    def year_draws(self) -> YearDraws:
        """This year's public shocks: crop price factors and a migrant labour-market downturn.

        Markets and labour offices publish them; the households' own shocks are not here.
        """
        draws = self._model.year_draws
        assert draws is not None, "the year's draws exist from the first January on"
        return draws

    def policy_stream(self, name: str) -> np.random.Generator:
        """Policy ``name``'s own random stream (never one of the shock streams)."""
        return stream(self._model.cfg.seed, f"policy.{name}")


class Policy(Generic[C]):
    """Base class of a policy; subclasses set ``name`` and ``config_type`` and override hooks.

    Schedule within a month (see :meth:`sim.engine.model.PovertyModel.step`): every January
    :meth:`start_year` runs before the shocks; every month the shocks hit, incomes are earned,
    then :meth:`step` runs; after each December assessment :meth:`end_year` runs. In each phase
    the enabled policies act in the order of :data:`sim.policies.ORDER`, custom policies last.

    Args:
        cfg: the policy's validated config (``policies.<name>``).
        ctx: the view of the model the policy works through.
    """

    name: ClassVar[str]  # the key of its config node, ``policies.<name>``
    config_type: ClassVar[type[PolicyConfig]]  # the dataclass its config node is checked against

    def __init__(self, cfg: C, ctx: PolicyContext):
        self.cfg = cfg
        self.rng = ctx.policy_stream(self.name)  # the policy's own lotteries
        # Registered lifted households (2020's register): known to every office.
        self.registered = ctx.state.initial_status == LIFTED

    def targeted(self, state: HouseholdState) -> np.ndarray:
        """Households served first: registered ones and those monitoring colours orange or red.

        Colours are green everywhere when monitoring is off, so then the registered alone.
        """
        return self.registered | (state.risk_colour >= ORANGE)

    def start_year(self, ctx: PolicyContext) -> None:
        """Annual actions (enrolment, training intakes, relocation), every January."""

    def step(self, ctx: PolicyContext) -> None:
        """Monthly actions, after shocks and incomes and before the month is booked."""

    def end_year(self, ctx: PolicyContext) -> None:
        """Annual book-keeping after the December assessment."""

    def metrics(self) -> dict[str, Any]:
        """Figures this policy adds to ``summary.json`` (JSON-serialisable)."""
        return {}
