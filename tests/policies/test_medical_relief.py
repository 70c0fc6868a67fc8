"""Medical relief: illness relapses, the three layers, limits and bookkeeping."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.engine.model import PovertyModel
from sim.engine.state import LIFTED, NON_POOR, ORANGE
from sim.run import run

SEEDS = range(4)
HOUSEHOLDS = 2000


def test_lowers_illness_relapses_under_paired_seeds(run_small):
    base, relieved = [], []
    for seed in SEEDS:
        common = (f"seed={seed}",)
        base.append(run_small(*common, households=HOUSEHOLDS).summary)
        relieved.append(run_small(*common, "policy=medical_relief", households=HOUSEHOLDS).summary)
    # Relief pays bills, not income: it acts on the after_shocks measure (income minus uncovered
    # health and disaster spending).
    after = [[s["by_measure"]["after_shocks"] for s in runs] for runs in (base, relieved)]
    illness = [[m["relapses_by_cause"]["illness"] for m in runs] for runs in after]
    assert sum(illness[1]) < 0.5 * sum(illness[0])
    assert all(r <= b for b, r in zip(*illness, strict=True))
    assert sum(m["relapse_rate"] for m in after[1]) < sum(m["relapse_rate"] for m in after[0])


def test_seed_case_and_annual_cap_known_answer(small):
    """The seed's 10,000 yuan out of pocket (a 22,222-yuan bill at 55%) is relieved by 7,267."""
    model = PovertyModel(small("seed=0", "policy=medical_relief"))
    policy, s = model.policy("medical_relief"), model.state
    lifted = np.flatnonzero((s.initial_status == LIFTED) & (s.risk_colour < ORANGE))[0]
    other = np.flatnonzero(s.initial_status == NON_POOR)[0]
    paid = []
    for _ in range(2):  # the same bill twice in one year: the second reaches the cap
        s.medical_cost_month[:] = 0.0
        s.medical_oop_month[:] = 0.0
        s.expense_month[:] = 0.0
        s.medical_cost_month[[lifted, other]] = 10_000 / 0.45
        s.medical_oop_month[[lifted, other]] = 10_000
        s.expense_month[[lifted, other]] = 10_000
        before = model.ledger.paid["medical_relief"]
        policy.step(model.policy_context)
        paid.append(model.ledger.paid["medical_relief"] - before)
        assert s.expense_month[other] == 10_000  # not eligible
        assert s.expense_month[lifted] == pytest.approx(10_000 - paid[-1])
    # Top-up 5,555.56 + grant 0.7 * (4,444.44 - 2,000); then the cap leaves 2,900 for the year.
    assert paid[0] == pytest.approx(7_266.67, abs=0.01)
    assert 20_000 - sum(paid) == pytest.approx(2_900)


def test_never_pays_more_than_the_months_medical_out_of_pocket_cost(small):
    model = PovertyModel(small("seed=1", "policy=medical_relief", "shocks=severe", "years=3"))
    policy, s = model.policy("medical_relief"), model.state
    real_cover = model.ledger.cover_expense
    excess = []

    def checked_cover(name, households, amounts):
        excess.append(float(np.max(amounts - s.medical_oop_month[households], initial=0.0)))
        real_cover(name, households, amounts)

    model.ledger.cover_expense = checked_cover
    lifted = s.initial_status == LIFTED
    net_oop_year = np.zeros(s.count)
    while not model.finished:
        model.step()
        net_oop_year += s.medical_oop_month
        if model.month_of_year == 0:  # a year has just closed
            cfg = policy.cfg
            bound = cfg.relief_threshold_yuan + (1 - cfg.relief_grant_share) * (
                cfg.oop_cap_yuan - cfg.relief_threshold_yuan
            )
            assert net_oop_year[lifted].max() <= bound + 1e-6
            net_oop_year[:] = 0.0
    assert excess and max(excess) <= 1e-9
    assert policy.metrics()["medical_relief_paid_yuan"] > 0


def test_money_booked_equals_money_received(small):
    model = PovertyModel(small("seed=2", "policy=medical_relief", "years=4"))
    model.run()
    ledger, metrics = model.ledger, model.policy("medical_relief").metrics()
    assert metrics["medical_relief_paid_yuan"] > 0
    assert ledger.paid["medical_relief"] == pytest.approx(ledger.received.sum())
    assert ledger.paid["medical_relief"] == pytest.approx(metrics["medical_relief_paid_yuan"])
    assert metrics["medical_relief_paid_yuan"] == pytest.approx(
        sum(metrics["medical_relief_paid_by_layer_yuan"].values())
    )


def test_monitoring_extends_eligibility_to_orange_and_red_households(small, run_small):
    lifted = int((PovertyModel(small("seed=3")).state.initial_status == LIFTED).sum())
    alone = run_small("seed=3", "policy=medical_relief").summary
    assert alone["medical_relief_eligible"] == lifted
    monitored = run_small(
        "seed=3", "policy=medical_relief", "policies.monitoring.enabled=true"
    ).summary
    assert monitored["medical_relief_eligible"] > lifted


def test_disabled_policy_changes_nothing(small):
    baseline = run(small("seed=5", "policy=none")).summary
    disabled = run(
        small(
            "seed=5",
            "policies.medical_relief.enabled=false",
            "policies.medical_relief.oop_cap_yuan=0",
        )
    ).summary
    assert json.dumps(disabled) == json.dumps(baseline)
