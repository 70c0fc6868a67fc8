"""The shape every policy has: a config with ``enabled`` and a rule applied to the model's arrays.

A policy acts only on what it could know: the monitoring system's observations and registered
status, never the simulation's hidden true state. It books every yuan through ``model.ledger``
and draws any lottery from its own stream, ``self.rng`` (``model.policy_stream(name)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from sim.engine.population import LIFTED, ORANGE

if TYPE_CHECKING:
    from sim.engine.model import PovertyModel
    from sim.engine.population import HouseholdState


class Policy:
    """Base class of a policy module; subclasses override the phases they act in.

    Schedule within a month (see :meth:`sim.engine.model.PovertyModel.step`): shocks hit,
    incomes are earned, then each enabled policy's :meth:`step` runs in registry order, then
    the month is booked. :meth:`start_year` runs every January before the shocks.
    """

    name: ClassVar[str]

    def __init__(self, cfg: Any, model: PovertyModel):
        self.cfg = cfg
        self.rng = model.policy_stream(self.name)  # the policy's own lotteries
        # Registered lifted households (2020's register): known to every office.
        self.registered = model.state.initial_status == LIFTED

    def targeted(self, state: HouseholdState) -> np.ndarray:
        """Households served first: registered ones and those monitoring colours orange or red.

        Colours are green everywhere when monitoring is off, so then the registered alone.
        """
        return self.registered | (state.risk_colour >= ORANGE)

    def start_year(self, model: PovertyModel) -> None:
        """Annual actions (enrolment, training intakes, relocation), every January."""

    def step(self, model: PovertyModel) -> None:
        """Monthly actions, after shocks and incomes and before the month is booked."""

    def end_year(self, model: PovertyModel) -> None:
        """Annual book-keeping after the December assessment."""

    def metrics(self) -> dict[str, Any]:
        """Figures this policy adds to ``summary.json`` (JSON-serialisable)."""
        return {}
