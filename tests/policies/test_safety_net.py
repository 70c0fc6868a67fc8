"""Dibao as a means-tested programme: who is enrolled, what a recipient gets, what it costs."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.model import PovertyModel

DIBAO = ("policy=safety_net", "shocks=severe", "years=4")


@pytest.mark.parametrize("seed", [1, 2])
def test_with_no_inclusion_error_nobody_observed_above_the_standard_is_enrolled(small, seed):
    model = PovertyModel(small(*DIBAO, f"seed={seed}", "policies.safety_net.inclusion_error=0"))
    policy, s = model.policy("safety_net"), model.state
    standard = model.cfg.policies.safety_net.standard_per_capita
    dibao_households = 0
    while not model.finished:
        review = model.month_of_year == 0
        model.step()
        if review:
            dibao = s.safety_net & ~policy.extreme_hardship
            assert (policy.review_per_capita[dibao] < standard).all()
            dibao_households += int(dibao.sum())
    assert dibao_households > 0


def test_with_an_inclusion_error_some_households_above_the_standard_are_enrolled(small):
    model = PovertyModel(small(*DIBAO, "seed=1", "policies.safety_net.inclusion_error=0.05"))
    policy, s = model.policy("safety_net"), model.state
    standard = model.cfg.policies.safety_net.standard_per_capita
    model.step()
    dibao = s.safety_net & ~policy.extreme_hardship
    assert (policy.review_per_capita[dibao] >= standard).any()


def test_a_recipients_income_reaches_the_standard(small):
    model = PovertyModel(
        small(*DIBAO, "seed=3", "policies.safety_net.income_error_sigma=0", "years=2")
    )
    policy, s = model.policy("safety_net"), model.state
    cfg = model.cfg.policies.safety_net
    standard = np.where(
        policy.extreme_hardship, cfg.extreme_hardship_standard_per_capita, cfg.standard_per_capita
    )
    paid_months = 0
    while not model.finished:
        received = model.ledger.received.copy()
        model.step()
        paid = model.ledger.received > received
        income = s.income_month + s.policy_transfers_month
        assert (income[paid] >= standard[paid] * s.size[paid] / 12 - 1e-6).all()
        # and never more than the standard: the benefit tops up, it does not add on top
        np.testing.assert_allclose(income[paid], standard[paid] * s.size[paid] / 12)
        assert (
            income[s.safety_net] >= standard[s.safety_net] * s.size[s.safety_net] / 12 - 1e-6
        ).all()
        paid_months += int(paid.sum())
    assert paid_months > 0


def test_take_up_zero_means_no_spending(small):
    cfg = small(
        *DIBAO, "seed=4", "policies.safety_net.take_up=0", "policies.safety_net.inclusion_error=0"
    )
    model = PovertyModel(cfg)
    model.state.safety_net[:] = False  # no inherited 2020 roll: every case must apply
    model.run()
    assert model.ledger.cost("safety_net") == 0
    assert model.policy("safety_net").metrics()["safety_net_enrolled"] == 0
    assert not model.state.safety_net.any()


def test_the_asset_test_excludes_households_with_savings(small):
    def enrolled(limit: str) -> int:
        model = PovertyModel(
            small(*DIBAO, "seed=5", f"policies.safety_net.asset_limit_per_capita={limit}")
        )
        model.step()
        return int(model.state.safety_net.sum())

    assert enrolled("0") < enrolled("10000000")


def test_money_booked_is_money_received_and_admin_follows_the_roll(small):
    model = PovertyModel(small(*DIBAO, "seed=3"))
    admin = model.cfg.policies.safety_net.admin_cost_per_household
    roll_months = 0
    while not model.finished:
        model.step()
        roll_months += int(model.state.safety_net.sum())
    ledger = model.ledger
    assert ledger.paid["safety_net"] > 0
    assert ledger.paid["safety_net"] == pytest.approx(ledger.received.sum(), rel=1e-12)
    assert ledger.overhead["safety_net"] == pytest.approx(roll_months * admin / 12)
    recipients = model.policy("safety_net").recipients_ever
    assert (ledger.received[~recipients] == 0).all() and recipients.any()


def test_dibao_lowers_relapse_among_households_without_workers(small):
    def relapsed(*extra: str) -> int:
        model = PovertyModel(small(*DIBAO, "seed=0", "population.households=2000", *extra))
        model.run()
        s = model.state
        return int((s.ever_relapsed & (s.workers == 0)).sum())

    without = relapsed("policies.safety_net.enabled=false")
    assert without > 0
    assert relapsed() < without
