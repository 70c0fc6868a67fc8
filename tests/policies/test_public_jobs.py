"""Public-welfare jobs: posts from the national dose, targeted holders, wages booked, received."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.model import PovertyModel
from sim.engine.state import LIFTED, ORANGE


def test_posts_follow_the_dose_and_go_to_targeted_village_workers(small):
    model = PovertyModel(small("seed=1", "policy=all", "years=3", "shocks=severe"))
    policy, s = model.policy("public_jobs"), model.state
    lifted_people = s.size[s.initial_status == LIFTED].sum()
    dose = model.cfg.policies.public_jobs.jobs_per_1000_lifted_people
    assert policy.capacity == pytest.approx(dose * lifted_people / 1000)
    while not model.finished:
        january = model.month_of_year == 0
        # Posts are filled in January before monitoring recolours: on last December's colours.
        targeted = (s.initial_status == LIFTED) | (s.risk_colour >= ORANGE)
        model.step()
        assert (policy.posts <= s.farm_workers + s.unemployed_migrants).all()
        if january:
            assert policy.filled_by_year[-1] == int(policy.capacity)
            assert targeted[policy.posts > 0].all()


def test_wages_booked_are_wages_received_on_the_working_share(small, income_to_end):
    common = ("seed=2", "years=2")
    base = income_to_end(PovertyModel(small(*common)))
    model = PovertyModel(small(*common, "policy=public_jobs"))
    with_posts = income_to_end(model)
    ledger = model.ledger
    assert ledger.paid["public_jobs"] > 0
    np.testing.assert_allclose(ledger.paid["public_jobs"], ledger.received.sum())
    np.testing.assert_allclose(with_posts - base, ledger.received, atol=1e-6)
    posts = model.policy("public_jobs").filled_by_year
    admin = model.cfg.policies.public_jobs.admin_cost_per_post
    assert ledger.overhead["public_jobs"] == pytest.approx(sum(posts) * admin)


def test_public_jobs_lower_relapse_under_paired_seeds(run_small):
    with_posts, without = 0.0, 0.0
    for seed in range(3):
        common = (f"seed={seed}", "years=5", "shocks=severe")
        with_posts += run_small(*common, "policy=public_jobs", households=2000).summary[
            "relapse_cumulative"
        ]
        without += run_small(*common, households=2000).summary["relapse_cumulative"]
    assert with_posts < without
