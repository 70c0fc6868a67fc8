"""The shape every policy has, and what it may see of the model.

A policy is a class ``Policy[C]`` with a config dataclass ``C`` (a :class:`PolicyConfig`, so it
has ``enabled``) and up to three hooks that act on the household arrays. Hooks receive a
:class:`PolicyContext`, the narrow view of the model a policy works through: the household state,
the villages, the ledger, the poverty line and monitoring threshold, the calendar and the year's
public draws (crop prices, a labour-market downturn). A policy acts only on what it could know:
the monitoring system's observations and registered status, never the simulation's hidden true
state. It books every yuan through ``ctx.ledger`` under its own name and draws any lottery from
its own stream, ``self.rng`` (stream ``policy.<name>`` of the run seed).

Every policy has a calendar (:class:`PolicyConfig`: ``start_year``, ``end_year``, ``phase_out``):
its **intensity** is 1 from ``start_year`` through ``end_year``, then falls over
``phase_out_years`` years (``linear``: by equal steps to 0; ``step``: to ``phase_out_level``,
then 0) and is 0 before ``start_year`` and after the phase-out. The calendar is enforced here,
once, for built-in and custom policies alike: a policy's hooks run only in years of positive
intensity (:meth:`Policy.__init_subclass__` guards them), :meth:`Policy.withdraw` runs once
when its window closes, and a policy whose window misses the whole run is never built
(:func:`sim.policies.build_policies`), so it is bit-identical to the policy disabled. Inside the
window each policy scales its dose by ``self.intensity`` (its module says how).

The built-in policies are listed in :data:`sim.policies.ORDER`; a researcher's own policy is a
subclass of :class:`Policy` in their own module, enabled from config (docs/policies.md, "Write
your own policy").
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import numpy as np

from sim.engine.rng import stream
from sim.engine.state import LIFTED, ORANGE
from sim.params import bounded, probability, required

if TYPE_CHECKING:
    from sim.engine.ledger import Ledger
    from sim.engine.model import PovertyModel
    from sim.engine.shocks import YearDraws
    from sim.engine.state import HouseholdState, Villages


FIRST_YEAR, LAST_YEAR = 2000, 2200
"""Calendar years a policy's window may name: the run's ``start_year`` range and a century on."""


class PhaseOut(Enum):
    """How a policy's intensity falls after ``end_year`` (:meth:`PolicyConfig.intensity`)."""

    none = "none"  # stops at once
    linear = "linear"  # by equal steps to 0 over phase_out_years
    step = "step"  # to phase_out_level for phase_out_years, then 0


def _calendar(default: float, field_of_range: Any) -> Any:
    """A calendar field with a default (custom policies' YAML need not name it) and a range."""
    return field(default=default, metadata=field_of_range.metadata)


@dataclass
class PolicyConfig:
    """What every policy's config has: its switch and its calendar.

    The calendar's defaults keep a policy active at full intensity for the whole run (any run
    starts in 2000 or later and ends by 2199, :class:`sim.config.Config`).
    """

    enabled: bool = required()  # the policy acts only when enabled
    start_year: int = _calendar(FIRST_YEAR, bounded(FIRST_YEAR, LAST_YEAR))  # first active year
    end_year: int = _calendar(LAST_YEAR, bounded(FIRST_YEAR, LAST_YEAR))  # last at full intensity
    phase_out: PhaseOut = PhaseOut.none  # none, linear or step after end_year
    phase_out_years: int = _calendar(0, bounded(0, 50))  # years after end_year of falling intensity
    phase_out_level: float = _calendar(0.5, probability())  # intensity in a step phase-out

    def intensity(self, year: int) -> float:
        """The policy's intensity in calendar ``year``: 0 (inactive) .. 1 (full).

        1 in ``[start_year, end_year]``; in the ``phase_out_years`` years after ``end_year``,
        ``1 - k / (phase_out_years + 1)`` in the ``k``-th year (``linear``) or
        ``phase_out_level`` (``step``); 0 otherwise (``none``: no phase-out).
        """
        if year < self.start_year:
            return 0.0
        after = year - self.end_year
        if after <= 0:
            return 1.0
        if after > self.phase_out_years or self.phase_out is PhaseOut.none:
            return 0.0
        if self.phase_out is PhaseOut.linear:
            return 1.0 - after / (self.phase_out_years + 1)
        return self.phase_out_level

    def active_in(self, first: int, last: int) -> bool:
        """Whether the intensity is positive in some year of ``[first, last]``."""
        return any(self.intensity(year) > 0 for year in range(first, last + 1))


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
    def first_year(self) -> int:
        """Calendar year of the run's first month."""
        return self._model.cfg.start_year

    @property
    def last_year(self) -> int:
        """Calendar year of the run's last month."""
        return self._model.cfg.start_year + self._model.cfg.years - 1

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


HOOKS = ("start_year", "step", "end_year")
"""The hooks the model calls; they run only while the policy's calendar makes it active."""


def _on_calendar(hook: Callable[[Any, PolicyContext], None]) -> Callable[..., None]:
    """``hook`` run only in years the policy is active (:meth:`Policy.on_calendar`)."""

    @functools.wraps(hook)
    def guarded(self: Policy[Any], ctx: PolicyContext) -> None:
        if self.on_calendar(ctx):
            hook(self, ctx)

    guarded.__calendar_guarded__ = True  # type: ignore[attr-defined]
    return guarded


class Policy(Generic[C]):
    """Base class of a policy; subclasses set ``name`` and ``config_type`` and override hooks.

    Schedule within a month (see :meth:`sim.engine.model.PovertyModel.step`): every January
    :meth:`start_year` runs before the shocks; every month the shocks hit, incomes are earned,
    then :meth:`step` runs; after each December assessment :meth:`end_year` runs. In each phase
    the enabled policies act in the order of :data:`sim.policies.ORDER`, custom policies last.
    Hooks run only in the years of the policy's calendar (module docstring); ``self.intensity``
    is the year's intensity, and :meth:`withdraw` runs once when the window closes.

    Args:
        cfg: the policy's validated config (``policies.<name>``).
        ctx: the view of the model the policy works through.
    """

    name: ClassVar[str]  # the key of its config node, ``policies.<name>``
    config_type: ClassVar[type[PolicyConfig]]  # the dataclass its config node is checked against

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Guard the hooks a subclass defines with the calendar (each hook once)."""
        super().__init_subclass__(**kwargs)
        for hook in HOOKS:
            own = cls.__dict__.get(hook)
            if own is not None and not getattr(own, "__calendar_guarded__", False):
                setattr(cls, hook, _on_calendar(own))

    def __init__(self, cfg: C, ctx: PolicyContext):
        self.cfg = cfg
        self.rng = ctx.policy_stream(self.name)  # the policy's own lotteries
        # Registered lifted households (2020's register): known to every office.
        self.registered = ctx.state.initial_status == LIFTED
        self._ledger = ctx.ledger
        self._households = ctx.state.count
        self.intensity = 0.0  # this year's intensity, set by on_calendar
        self._calendar_year: int | None = None
        self._was_active = False

    def on_calendar(self, ctx: PolicyContext) -> bool:
        """Whether the policy acts this year; updates ``self.intensity`` once a year.

        When the intensity falls to 0 after the policy has been active, :meth:`withdraw` runs
        once, before any hook of that year is skipped.
        """
        if ctx.year != self._calendar_year:
            self._calendar_year = ctx.year
            self.intensity = self.cfg.intensity(ctx.year)
            active = self.intensity > 0
            if self._was_active and not active:
                self.withdraw(ctx)
            self._was_active = active
        return self.intensity > 0

    def withdraw(self, ctx: PolicyContext) -> None:
        """Undo what the policy keeps in the shared registers when its window closes.

        The base class has nothing to undo; a policy that writes a register other policies
        read (monitoring's colours, dibao enrolment) clears its entries here.
        """

    def pay(self, ctx: PolicyContext, households: np.ndarray, amounts: np.ndarray | float) -> None:
        """Transfer ``amounts`` yuan to ``households`` (mask or indices), booked to this policy."""
        ctx.ledger.transfer(self.name, households, amounts)

    def cover(
        self, ctx: PolicyContext, households: np.ndarray, amounts: np.ndarray | float
    ) -> None:
        """Pay ``amounts`` yuan of ``households``' shock expenditure, booked to this policy."""
        ctx.ledger.cover_expense(self.name, households, amounts)

    @property
    def recipients_ever(self) -> np.ndarray:
        """Households that received a positive amount from this policy during the run.

        For the inclusion and exclusion errors (sim/outcomes.py): the ledger's payments to each
        household by this policy, which are never negative, are positive for exactly these.
        """
        received = self._ledger.received_by.get(self.name)
        return np.zeros(self._households, bool) if received is None else received > 0

    def targeted(self, state: HouseholdState) -> np.ndarray:
        """Households served first: registered ones and those monitoring colours orange or red.

        Colours are green everywhere when monitoring is off, so then the registered alone.
        """
        return self.registered | (state.risk_colour >= ORANGE)

    @_on_calendar
    def start_year(self, ctx: PolicyContext) -> None:
        """Annual actions (enrolment, training intakes, relocation), every January."""

    @_on_calendar
    def step(self, ctx: PolicyContext) -> None:
        """Monthly actions, after shocks and incomes and before the month is booked."""

    @_on_calendar
    def end_year(self, ctx: PolicyContext) -> None:
        """Annual book-keeping after the December assessment."""

    def metrics(self) -> dict[str, Any]:
        """Figures this policy adds to ``summary.json`` (JSON-serialisable)."""
        return {}
