"""The policy calendar: windows, phase-outs, and the status quo / transition / none presets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.engine.model import PovertyModel
from sim.policies import ORDER
from sim.policies.base import PhaseOut, PolicyConfig
from sim.run import run

SHORT = ("years=3", "seed=2")


def calendar(**kwargs: object) -> PolicyConfig:
    return PolicyConfig(enabled=True, **kwargs)  # type: ignore[arg-type]


def test_intensity_is_full_in_the_window_then_falls_by_the_phase_out():
    years = range(2020, 2031)
    linear = calendar(start_year=2021, end_year=2025, phase_out=PhaseOut.linear, phase_out_years=3)
    assert [linear.intensity(y) for y in years] == [0, 1, 1, 1, 1, 1, 0.75, 0.5, 0.25, 0, 0]
    step = calendar(end_year=2025, phase_out=PhaseOut.step, phase_out_years=2, phase_out_level=0.4)
    assert [step.intensity(y) for y in years] == [1] * 6 + [0.4, 0.4, 0, 0, 0]
    sudden = calendar(end_year=2025, phase_out_years=4)  # no phase-out: stops at once
    assert [sudden.intensity(y) for y in years] == [1] * 6 + [0] * 5
    assert not linear.active_in(2029, 2040) and linear.active_in(2028, 2040)


def frames(result) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    return result.summary, result.timeseries, result.households


@pytest.mark.parametrize("name", [policy.name for policy in ORDER])
def test_a_policy_outside_its_window_is_bit_identical_to_the_policy_disabled(small, name):
    disabled = run(small(*SHORT))
    late = run(small(*SHORT, f"policies.{name}.enabled=true", f"policies.{name}.start_year=2030"))
    assert disabled.summary == late.summary
    pd.testing.assert_frame_equal(disabled.timeseries, late.timeseries)
    pd.testing.assert_frame_equal(disabled.households, late.households)
    ended = run(small(*SHORT, f"policies.{name}.enabled=true", f"policies.{name}.end_year=2020"))
    assert disabled.summary == ended.summary


def annual(result) -> pd.DataFrame:
    return result.timeseries.drop(columns="date").groupby("year").last()


def test_a_policy_starting_later_changes_nothing_before_it_starts(small):
    common = ("years=4", "seed=1", "shocks=severe", "population.households=1000")
    disabled = run(small(*common))
    later = run(small(*common, "policy=medical_relief", "policies.medical_relief.start_year=2023"))
    before, after = annual(disabled), annual(later)
    pd.testing.assert_frame_equal(before.loc[:2022], after.loc[:2022])
    assert not before.loc[2023:].equals(after.loc[2023:])
    assert later.summary["cost_by_policy_yuan"]["medical_relief"] > 0


def test_status_quo_and_transition_are_identical_through_2025_and_differ_after(small):
    status_quo = run(small("policy=status_quo", "seed=3"))
    transition = run(small("policy=transition", "seed=3"))
    sq, tr = annual(status_quo), annual(transition)
    pd.testing.assert_frame_equal(sq.loc[:2025], tr.loc[:2025])
    assert not sq.loc[2026:].equals(tr.loc[2026:])
    assert tr.loc[2026:, "policy_spending_yuan"].sum() < sq.loc[2026:, "policy_spending_yuan"].sum()
    kept = ("monitoring", "medical_relief", "safety_net")
    spending = transition.summary["cost_by_policy_yuan"]
    assert all(spending[name] > 0 for name in kept)


def test_the_transition_phase_out_period_is_one_key(small):
    slow = small("policy=transition", "policies.workshops.phase_out_years=5")
    for name in ("workshops", "training", "relocation", "east_west", "industry"):
        node = getattr(slow.policies, name)
        assert (node.end_year, node.phase_out, node.phase_out_years) == (2025, PhaseOut.linear, 5)
    for name in ("monitoring", "medical_relief", "safety_net"):
        assert getattr(slow.policies, name).intensity(2030) == 1.0


def test_none_withdraws_every_policy_from_the_start(small):
    model = PovertyModel(small("policy=none", "years=1"))
    assert model.policies == []


def test_every_yuan_paid_is_booked_to_one_enabled_policy_every_year(small):
    model = PovertyModel(small("policy=transition", "seed=4", "shocks=severe"))
    names = {policy.name for policy in model.policies}
    paid, received, cost = 0.0, 0.0, 0.0
    while not model.finished:
        model.step()
        if model.month_of_year == 0:  # a year has just closed
            ledger = model.ledger
            assert set(ledger.paid) <= names and set(ledger.overhead) <= names
            year_paid = sum(ledger.paid.values()) - paid
            year_received = float(ledger.received.sum()) - received
            assert year_paid == pytest.approx(year_received, rel=1e-9)
            year_cost = sum(ledger.cost(name) for name in {*ledger.paid, *ledger.overhead}) - cost
            months = pd.DataFrame(model.monthly[-12:])
            assert months["policy_spending_yuan"].sum() == pytest.approx(year_cost, rel=1e-9)
            paid, received, cost = paid + year_paid, received + year_received, cost + year_cost
    for policy in model.policies:
        got = model.ledger.received > 0
        assert not (policy.recipients_ever & ~got).any(), policy.name
    assert np.isclose(sum(model.ledger.paid.values()), model.ledger.received.sum())


def test_the_transition_scenario_is_deterministic(small):
    first = run(small("policy=transition", "seed=6", "years=7"))
    second = run(small("policy=transition", "seed=6", "years=7"))
    assert first.summary == second.summary
    pd.testing.assert_frame_equal(first.timeseries, second.timeseries)
    pd.testing.assert_frame_equal(first.households, second.households)


def test_a_custom_policy_follows_its_calendar_too(small):
    example = ("+experiment=custom_policy", "years=3", "seed=1")
    disabled = run(small(*example, "policies.colour_cash_transfer.enabled=false"))
    late = run(small(*example, "+policies.colour_cash_transfer.start_year=2030"))
    assert disabled.summary == late.summary
    pd.testing.assert_frame_equal(disabled.timeseries, late.timeseries)
    ended = small(*example, "+policies.colour_cash_transfer.end_year=2021")
    model = PovertyModel(ended)
    policy = model.policy("colour_cash_transfer")
    paid_by_year = []
    while not model.finished:
        model.step()
        if model.month_of_year == 0:
            paid_by_year.append(model.ledger.paid["colour_cash_transfer"])
    assert paid_by_year[0] > 0 and paid_by_year[-1] == paid_by_year[0]
    assert policy.intensity == 0.0
