"""The fast forms of the engine's and the policies' bookkeeping give exactly what the plain numpy
forms give (the results of a run must not change by a bit when the code gets faster; where a
fast form adds in another order, the test says so and bounds the difference)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import compose
from sim.engine.ledger import Ledger
from sim.engine.model import (
    WAGE_POLICIES,
    PovertyModel,
    VillageMembers,
    people_median,
    savings_change,
)
from sim.engine.rng import (
    UNIFORM_FLOAT32_STEPS,
    step_quantiles,
    steps_below,
    steps_below_each,
    stream,
    uniform_float32_words,
    words_below,
)
from sim.engine.shocks import YearDraws
from sim.engine.state import LIFTED, CropPrices
from sim.policies.east_west import union_of_rows
from sim.policies.lottery import entry_households
from sim.policies.monitoring import IncomeWindow, Monitoring, Observation, SpendingWindow
from sim.policies.workshops import Workshops


def flows(rng: np.random.Generator, households: int) -> tuple[np.ndarray, np.ndarray]:
    """Two flows of mixed magnitudes (so that the order of additions shows in the last bits)."""
    scale = 10.0 ** rng.integers(-3, 6, households)
    return rng.standard_normal(households) * scale, rng.random(households) * scale


@pytest.mark.parametrize("skip", [None, 17, 24])
def test_the_income_window_total_is_the_sum_of_the_12_months(skip):
    # To the bit: this year's months added in slot order plus last year's remaining months
    # added from December backwards; and the 12 months' sum up to rounding.
    rng = np.random.default_rng(0)
    households = 5_000
    first = rng.random(households) * 1000
    window, dense = IncomeWindow(first), np.tile(first, (12, 1))
    for month in range(40):
        if month == skip:  # a month not recorded: the window must not reuse stale sums
            continue
        flow, more = flows(rng, households)
        dense[month % 12] = flow + more
        total = window.record(month, flow, more)
        slot = month % 12
        expected = dense[: slot + 1].sum(axis=0)
        if slot < 11:
            expected = expected + np.cumsum(dense[:slot:-1], axis=0)[-1]
        assert np.array_equal(total, expected)
        scale = np.abs(dense).sum(axis=0)
        assert (np.abs(total - dense.sum(axis=0)) <= 1e-14 * scale).all()


def test_the_spending_window_total_equals_the_dense_sum_and_is_zero_without_spending():
    rng = np.random.default_rng(1)
    households = 5_000
    window, dense = SpendingWindow(households), np.zeros((12, households))
    for month in range(30):
        flow, _ = flows(rng, households)
        flow[rng.random(households) < 0.9] = 0.0  # most households spend nothing
        dense[month % 12] = flow
        total = window.record(month, flow, np.flatnonzero(flow))
        # equal as numbers (a total of zeros may differ from the dense sum in the sign of 0)
        assert (total == dense.sum(axis=0)).all()
        assert (total[(dense == 0).all(axis=0)] == 0).all()


@pytest.mark.parametrize("seed", range(6))
def test_uniform_words_are_the_single_precision_uniforms_and_leave_the_stream_where_they_do(seed):
    # Odd and even counts, a half-word kept by the generator or not, and draws in between that
    # take a variable number of words (single-precision normals) or none (double precision).
    fast, plain = stream(seed, "lottery"), stream(seed, "lottery")
    for count in (1, 0, 7, 10_000, 10_001, 2, 3 * 3_333, 1):
        words = uniform_float32_words(fast, count)
        steps = words >> 8
        uniforms = plain.random(count, dtype=np.float32)
        assert words.dtype == np.uint32
        assert np.array_equal(
            steps.astype(np.float32) / np.float32(UNIFORM_FLOAT32_STEPS), uniforms
        )
        assert fast.bit_generator.state == plain.bit_generator.state
        normals = count % 5 + 1
        assert np.array_equal(
            fast.standard_normal(normals, dtype=np.float32),
            plain.standard_normal(normals, dtype=np.float32),
        )
        assert np.array_equal(fast.standard_normal(2), plain.standard_normal(2))


@pytest.mark.parametrize("share", [0.0, 0.1, 0.25, 1 / 3, 0.7, 0.8, 0.123456789, 1.0])
def test_a_lottery_on_uniform_steps_is_the_lottery_on_the_uniforms(share):
    rng = np.random.default_rng(2)
    uniforms = rng.random(1_000_000, dtype=np.float32)
    bound = steps_below(share)
    # the steps on either side of the bound, where a rounding would show
    edge = np.array([max(bound - 1, 0), bound, min(bound + 1, UNIFORM_FLOAT32_STEPS - 1)])
    for u in (uniforms, edge.astype(np.float32) / np.float32(UNIFORM_FLOAT32_STEPS)):
        steps = (u * np.float32(UNIFORM_FLOAT32_STEPS)).astype(np.uint32)
        assert np.array_equal(steps < bound, u.astype(np.float64) < share)
        # numpy compares a single-precision array with a Python float in single precision
        assert np.array_equal(steps < steps_below(float(np.float32(share))), u < share)
        # the same lottery on the words, whatever their low 8 bits (steps below 2**24 only)
        steps = steps[steps < UNIFORM_FLOAT32_STEPS]
        for low in (0, 255):
            words = (steps << 8) + np.uint32(low)
            assert np.array_equal(words < words_below(share), steps < bound)
        each = steps_below_each(np.full(3, share))
        assert each.dtype == np.uint32 and (each == bound).all()


def test_steps_below_each_is_capped_where_every_step_is_below():
    probabilities = np.array([0.0, 1e-9, 0.03, 0.5, 1.0, 1.5, 300.0])
    each = steps_below_each(probabilities)
    expected = [min(steps_below(p), UNIFORM_FLOAT32_STEPS) for p in probabilities]
    assert each.tolist() == expected
    steps = np.array([0, UNIFORM_FLOAT32_STEPS - 1], np.uint32)
    assert (steps[:, None] < each[4:]).all()  # a certainty stays certain


def test_step_quantiles_are_inside_the_unit_interval_and_symmetric():
    steps = np.array([0, 1, 2**23 - 1, 2**23, 2**24 - 2, 2**24 - 1], np.uint32)
    u = step_quantiles(steps)
    assert ((u > 0) & (u < 1)).all()
    assert np.array_equal(u, 1.0 - u[::-1])
    assert np.array_equal(u, (steps + 0.5) / UNIFORM_FLOAT32_STEPS)


def test_the_union_of_placed_rows_is_numpys_union():
    rng = np.random.default_rng(8)
    for size, more in ((0, 0), (0, 5), (7, 0), (6_000, 30), (50, 50)):
        rows = np.sort(rng.choice(10_000, size, replace=False)).astype(np.intp)
        extra = rng.choice(10_000, more, replace=False).astype(np.intp)
        union = union_of_rows(rows, extra)
        assert union.dtype == np.intp
        assert np.array_equal(union, np.union1d(rows, extra))


def test_village_members_are_the_households_of_struck_villages_after_moves_too():
    rng = np.random.default_rng(9)
    villages = 60
    village = rng.integers(0, villages - 5, 20_000).astype(np.int32)  # the last 5: empty sites
    members = VillageMembers(villages)
    for month in range(12):
        if month % 4 == 3:  # households move (relocation), and a site fills
            movers = rng.random(village.size) < 0.05
            village[movers] = rng.integers(villages - 5, villages, int(movers.sum()))
        struck = rng.random(villages) < 0.1 * (month % 3)
        rows = members.of(village, np.flatnonzero(struck))
        assert rows.dtype == np.intp
        assert np.array_equal(rows, np.flatnonzero(struck[village]))


def test_the_people_median_is_the_median_persons_income():
    rng = np.random.default_rng(10)

    def plain(per_capita: np.ndarray, size: np.ndarray) -> float:
        people = np.repeat(per_capita, size)  # one entry per person
        if not people.size:
            return 0.0
        middle = (people.size + 1) // 2 - 1
        return float(np.partition(people, middle)[middle])

    for trial in range(300):
        n = int(rng.integers(1, 40)) if trial % 3 else int(rng.integers(1, 5_000))
        # ties (rounded incomes) and households of no one
        per_capita = np.round(rng.normal(0, 3, n)) if trial % 2 else rng.lognormal(9, 1, n)
        size = rng.integers(0, 7, n).astype(np.int16)
        assert people_median(per_capita, size) == plain(per_capita, size)
    assert people_median(np.zeros(0), np.zeros(0, np.int16)) == 0.0
    assert people_median(np.ones(3), np.zeros(3, np.int16)) == 0.0


def test_the_change_of_savings_is_the_rate_on_an_excess_and_the_shortfall_otherwise():
    rng = np.random.default_rng(11)
    excess = rng.normal(0, 100, 10_000)
    excess[:50] = 0.0
    excess[50:60] = np.nan
    savings = rng.random(10_000) * 200
    savings[::7] = 0.0
    for rate in (0.0, 0.3, 1.0):
        factor = np.where(excess > 0, rate, 1.0)
        expected = np.maximum(excess, -savings) * factor
        change = savings_change(excess.copy(), savings, rate)
        assert np.array_equal(change, expected, equal_nan=True)


def test_lifted_policy_wages_are_the_wage_policies_payments_to_lifted_households():
    model = PovertyModel(compose(["population.households=3000", "policy=all", "years=2"]))
    lifted = model.state.initial_status == LIFTED
    paid_before = 0.0
    while not model.finished:
        model.step()
        received = model.ledger.received_by
        paid = sum(float(received[p][lifted].sum()) for p in WAGE_POLICIES if p in received)
        assert model.monthly[-1]["lifted_policy_wage_yuan"] == paid - paid_before
        paid_before = paid
    assert paid_before > 0


def test_a_policys_recipients_are_the_households_it_paid_a_positive_amount(monkeypatch):
    model = PovertyModel(compose(["population.households=3000", "policy=all", "years=2"]))
    paid: dict[str, np.ndarray] = {}
    book = model.ledger._book

    def recording(policy: str, rows: np.ndarray, amounts: np.ndarray) -> None:
        seen = paid.setdefault(policy, np.zeros(model.state.count, bool))
        seen[rows[np.broadcast_to(amounts, rows.shape) > 0]] = True
        book(policy, rows, amounts)

    monkeypatch.setattr(model.ledger, "_book", recording)
    model.run()
    assert len(paid) >= 5
    for policy in model.policies:
        expected = paid.get(policy.name, np.zeros(model.state.count, bool))
        assert np.array_equal(policy.recipients_ever, expected), policy.name


def test_the_households_of_chosen_entries_are_those_of_the_listed_entries():
    rng = np.random.default_rng(3)
    rows = np.sort(rng.choice(50_000, 8_000, replace=False))
    counts = rng.integers(0, 4, rows.size).astype(np.int16)
    listed = np.repeat(rows, counts)
    entries = rng.choice(listed.size, 500, replace=False)
    assert np.array_equal(entry_households(rows, counts, entries), listed[entries])


def test_the_ledger_books_each_payment_as_a_plain_indexed_addition():
    rng = np.random.default_rng(4)
    model = PovertyModel(compose(["population.households=2000", "policy=none"]))
    state, ledger = model.state, Ledger(model.state)
    state.policy_transfers_month[:] = flows(rng, state.count)[1]
    state.policy_ytd[:] = flows(rng, state.count)[1]
    state.expense_month[:] = flows(rng, state.count)[1]
    transfers, ytd = state.policy_transfers_month.copy(), state.policy_ytd.copy()
    expenses, received = state.expense_month.copy(), np.zeros(state.count)
    received_by = {"a": np.zeros(state.count), "b": np.zeros(state.count)}
    for policy in ("a", "b", "a", "a", "b"):
        rows = np.sort(rng.choice(state.count, 700, replace=False))
        amounts = flows(rng, rows.size)[1]
        ledger.transfer(policy, rows, amounts)
        transfers[rows] += amounts
        ytd[rows] += amounts
        received[rows] += amounts
        received_by[policy][rows] += amounts
        covered = np.sort(rng.choice(state.count, 300, replace=False))
        ledger.cover_expense(policy, covered, 12.5)
        expenses[covered] -= 12.5
        received[covered] += 12.5
        received_by[policy][covered] += 12.5
    assert np.array_equal(state.policy_transfers_month, transfers)
    assert np.array_equal(state.policy_ytd, ytd)
    assert np.array_equal(state.expense_month, expenses)
    # all policies' payments: each policy's added up, policy by policy
    assert np.array_equal(ledger.received, received_by["a"] + received_by["b"])
    np.testing.assert_allclose(ledger.received, received, rtol=1e-15)
    for policy, expected in received_by.items():
        assert np.array_equal(ledger.received_by[policy], expected)


def test_sick_and_working_shares_are_the_plain_division():
    model = PovertyModel(compose(["population.households=3000", "policy=none"]))
    s = model.state
    rng = np.random.default_rng(5)
    s.sick_workers[:] = np.minimum(rng.integers(0, 3, s.count), s.workers)
    assert (s.workers == 0).any() and (s.sick_workers > 0).any()
    plain = np.divide(s.sick_workers, s.workers, out=np.zeros(s.count), where=s.workers > 0)
    rows = np.sort(rng.choice(s.count, 1_000, replace=False))
    assert np.array_equal(s.sick_share(), plain)
    assert np.array_equal(s.working_share(), 1.0 - plain)
    assert np.array_equal(s.sick_share(rows), plain[rows])
    assert np.array_equal(s.working_share(rows), 1.0 - plain[rows])


def test_crop_prices_follow_their_inputs():
    model = PovertyModel(compose(["population.households=3000", "policy=none"]))
    s = model.state
    rng = np.random.default_rng(6)
    prices = CropPrices()
    for year in range(4):
        draws = YearDraws(False, *(float(p) for p in rng.lognormal(0.0, 0.2, 2)))
        for _ in range(2):  # a change of crops or premiums between months of the same year
            s.cash_crop[rng.random(s.count) < 0.1] = True
            s.farm_price_premium[rng.random(s.count) < 0.05] = year * 0.1
            prices.update(s, draws)
            market = np.array([draws.price_staple, draws.price_cash_crop])
            crop = s.cash_crop.astype(np.intp)
            assert np.array_equal(prices.price, (1.0 + s.farm_price_premium) * market[crop])
            assert np.array_equal(prices.below_normal, np.maximum(1.0 - market, 0.0)[crop])


def test_monitoring_colours_are_those_of_the_masked_rules():
    model = PovertyModel(compose(["population.households=2000", "policy=monitoring"]))
    ctx = model.policy_context
    rng = np.random.default_rng(7)
    rows = np.sort(rng.choice(2000, 600, replace=False))
    per_capita = rng.random(2000) * 2.5 * ctx.monitoring_threshold
    seen = Observation(per_capita, rng.random(2000) < 0.1, rng.random(2000) < 0.1)
    low = per_capita[rows] < ctx.monitoring_threshold
    sudden = seen.sudden[rows]
    plain = (low | sudden).astype(np.int8)
    plain[low & sudden] = 2
    plain[(per_capita[rows] < ctx.line) | seen.rigid[rows]] = 3
    colour = Monitoring._colour(ctx, seen, rows)
    assert colour.dtype == np.int8
    assert np.array_equal(colour, plain)


def test_workshop_jobs_by_village_count_every_household():
    model = PovertyModel(compose(["population.households=3000", "policy=workshops"]))
    for _ in range(14):
        model.step()
    policy = model.policy("workshops")
    assert isinstance(policy, Workshops)
    jobs = policy.farm_jobs + policy.returnee_jobs
    assert jobs.sum() > 0
    plain = np.bincount(model.state.village, weights=jobs, minlength=policy.open.size)
    assert np.array_equal(policy.jobs_by_village(model.policy_context), plain.astype(np.int64))
