"""Vocational training: raises workers' skill, and with it wages and access to wage jobs.

The seed (S24) tells of a woman who failed to find work in the cities for lack of skills, took
the village's training and found a job near home; Anhui secured 1.6 M jobs through training,
workshops and pairing. The parameters below are assumptions (no published effect sizes).

- **Who and when.** Every January, ``trainees_per_1000_households`` places per 1,000 households
  of the county are filled by lottery from the policy's own stream
  (:func:`sim.policies.lottery.fill_places`) among the workers (one entry per worker: farm,
  local wage, migrant, unemployed returned migrant) of the targeted households
  whose skill is below ``max_skill``: registered lifted households (``initial_status == LIFTED``)
  and households monitoring colours orange or red (``state.risk_colour >= ORANGE``). A household
  may send several workers, and be trained again in a later year while its skill stays low.
- **Skill.** ``state.skill`` is the household's mean worker skill (0..1). A trainee's own skill
  rises by ``skill_gain``, so the household's rises by ``skill_gain * trainees / workers``
  (capped at 1).
- **Wages.** ``state.local_wage`` and ``state.migrant_wage`` (per worker, the household's mean)
  rise by the share ``wage_return_per_skill`` times the rise of the household's skill, i.e. a
  trainee's own wage rises by ``wage_return_per_skill * skill_gain`` when his category is paid
  the household's mean.
- **Wage jobs.** A trainee who was a farm worker finds a local wage job with probability
  ``wage_job_probability`` times his new skill (``min(household skill before + skill_gain, 1)``),
  and takes it if its wage (the household's local wage after training) exceeds his share of the
  farm income (``farm_income / farm_workers``; the household knows both). He moves from
  ``farm_workers`` to ``local_workers``, earns the household's local wage (which reflects its
  skill) and takes his share of the farm income with him
  (``farm_income * (farm_workers - movers) / farm_workers`` remains).
- **Money.** ``cost_per_trainee`` (trainers, venues) is overhead, booked in January;
  ``allowance_per_trainee`` (living and travel allowance) is a transfer to the trainee's
  household, paid in the January step, after monitoring has recorded the month's income (so
  monitoring does not count the allowance as income).

Training takes effect at once in January (courses of a few weeks). What the policy observes:
registered status, monitoring's colour, the household's workers by employment and their skill
(as an enrolment interview records them), and nothing of income. Taking a wage job is the
worker's own choice, made on his farm income and the wage offered, which he knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.params import bounded, probability
from sim.policies.base import Policy, PolicyConfig, PolicyContext
from sim.policies.lottery import fill_places

# Employment category of a trainee entry, in the order the entries are built.
FARM, LOCAL, MIGRANT, RETURNEE = 0, 1, 2, 3


@dataclass
class TrainingConfig(PolicyConfig):
    """Parameters of ``policies.training`` (defaults in ``configs/policies/training.yaml``)."""

    trainees_per_1000_households: float = bounded(0.0, 1000.0)  # places per 1,000 households a year
    max_skill: float = probability()  # households with skill (0..1) below this are eligible
    skill_gain: float = probability()  # skill added to a trainee (0..1 scale)
    wage_return_per_skill: float = bounded(0.0, 5.0)  # share of the wage per unit of skill
    wage_job_probability: float = probability()  # a trained farm worker's at skill 1
    cost_per_trainee: float = bounded(0.0, 1e5)  # yuan per trainee, overhead; 50 x the default
    # yuan per trainee, transfer to the household; up to 100,000 as the course's cost
    allowance_per_trainee: float = bounded(0.0, 1e5)


class Training(Policy[TrainingConfig]):
    """Annual training intake by lottery; skill, wages and wage jobs rise; costs booked."""

    name = "training"
    config_type = TrainingConfig

    def __init__(self, cfg: TrainingConfig, ctx: PolicyContext):
        super().__init__(cfg, ctx)
        s = ctx.state
        self.capacity = int(cfg.trainees_per_1000_households * s.count / 1000)
        self.trained = np.zeros(s.count, np.int32)  # trainees per household over the run
        self._allowance_due = np.zeros(s.count)  # yuan, paid in the January step
        self.trainees_by_year: list[int] = []
        self.wage_jobs = 0

    def start_year(self, ctx: PolicyContext) -> None:
        """Draw the year's trainees; raise skill and wages; move some farm workers to wage work."""
        s = ctx.state
        targeted = self.targeted(s)
        eligible = targeted & (s.skill < self.cfg.max_skill)
        rows = np.arange(s.count)
        counts = [s.farm_workers, s.local_workers, s.migrant_workers, s.unemployed_migrants]
        entries = np.concatenate([np.repeat(rows, c * eligible) for c in counts])
        category = np.repeat(np.arange(4), [int((c * eligible).sum()) for c in counts])
        all_targeted = np.ones(entries.size, bool)  # only targeted households are eligible
        chosen = fill_places(self.rng, int(self.capacity * self.intensity), all_targeted)
        job_u = self.rng.random(chosen.size)
        households = entries[chosen]
        trainee_skill = np.minimum(s.skill[households] + self.cfg.skill_gain, 1.0)
        trainees = np.bincount(households, minlength=s.count)
        self._raise_skill_and_wages(ctx, trainees)
        farm_share = np.divide(
            s.farm_income[households],
            s.farm_workers[households],
            out=np.zeros(households.size),
            where=s.farm_workers[households] > 0,
        )
        finds = (
            (category[chosen] == FARM)
            & (job_u < self.cfg.wage_job_probability * trainee_skill)
            & (s.local_wage[households] > farm_share)
        )
        self._move_to_wage_jobs(ctx, np.bincount(households[finds], minlength=s.count))

        self.trained += trainees
        self._allowance_due += self.cfg.allowance_per_trainee * trainees
        self.trainees_by_year.append(int(chosen.size))
        ctx.ledger.spend_overhead(self.name, chosen.size * self.cfg.cost_per_trainee)

    def step(self, ctx: PolicyContext) -> None:
        """Pay the allowances of the year's trainees (January)."""
        due = np.flatnonzero(self._allowance_due > 0)
        if due.size:
            self.pay(ctx, due, self._allowance_due[due])
            self._allowance_due[due] = 0.0

    def metrics(self) -> dict[str, Any]:
        """Trainees over the run and farm workers who found a wage job after training."""
        return {
            "training_trainees": int(sum(self.trainees_by_year)),
            "training_households": int((self.trained > 0).sum()),
            "training_wage_jobs": self.wage_jobs,
        }

    # -- phases ---------------------------------------------------------------------------

    def _raise_skill_and_wages(self, ctx: PolicyContext, trainees: np.ndarray) -> None:
        """Raise the household's mean skill, and its wages per worker in proportion."""
        s = ctx.state
        rows = np.flatnonzero(trainees)
        old = s.skill[rows]
        new = np.minimum(old + self.cfg.skill_gain * trainees[rows] / s.workers[rows], 1.0)
        s.skill[rows] = new
        raise_factor = 1.0 + self.cfg.wage_return_per_skill * (new - old)
        s.local_wage[rows] *= raise_factor
        s.migrant_wage[rows] *= raise_factor

    def _move_to_wage_jobs(self, ctx: PolicyContext, movers: np.ndarray) -> None:
        """Move ``movers`` farm workers per household to local wage work with their farm share."""
        rows = np.flatnonzero(movers)
        ctx.state.move_workers(rows, movers[rows], "farm", "local")
        self.wage_jobs += int(movers.sum())
