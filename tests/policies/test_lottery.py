"""The priority lottery every rationing policy uses: targeted first, then by lottery, capped."""

from __future__ import annotations

import numpy as np

from sim.policies.lottery import fill_places


def test_targeted_candidates_are_served_first_up_to_the_capacity():
    rng = np.random.default_rng(0)
    targeted = np.zeros(50, bool)
    targeted[[3, 10, 20]] = True
    chosen = fill_places(rng, 5, targeted)
    assert chosen.size == 5 and np.unique(chosen).size == 5
    assert set(chosen[:3]) == {3, 10, 20}
    few = fill_places(rng, 2, targeted)
    assert few.size == 2 and set(few) <= {3, 10, 20}
    assert fill_places(rng, 0, targeted).size == 0
    assert fill_places(rng, -4, targeted).size == 0
    assert np.sort(fill_places(rng, 80, targeted)).tolist() == list(range(50))


def test_the_order_served_is_group_then_targeted_then_lottery_key():
    """Known answer: the chosen are the first of a full sort by (targeted first, key)."""
    targeted = np.random.default_rng(1).random(1000) < 0.3
    for capacity in (1, 10, 299, 300, 301, 900):
        chosen = fill_places(np.random.default_rng(2), capacity, targeted)
        key = np.random.default_rng(2).random(targeted.size)
        np.testing.assert_array_equal(chosen, np.lexsort((key, ~targeted))[:capacity])


def test_each_group_gets_its_own_capacity():
    rng = np.random.default_rng(3)
    groups = np.repeat([0, 1, 2], [10, 4, 6])
    targeted = np.zeros(20, bool)
    targeted[[12, 19]] = True
    chosen = fill_places(rng, np.array([3, 10, 1]), targeted, groups=groups)
    assert np.bincount(groups[chosen], minlength=3).tolist() == [3, 4, 1]
    assert 19 in chosen  # the targeted candidate of group 2 takes its one place
    assert np.all(np.diff(groups[chosen]) >= 0)  # served group by group


def test_every_candidate_of_a_class_has_the_same_chance():
    targeted = np.zeros(40, bool)
    targeted[:10] = True
    counts = np.zeros(40)
    rng = np.random.default_rng(4)
    draws = 4000
    for _ in range(draws):
        counts[fill_places(rng, 20, targeted)] += 1
    assert (counts[:10] == draws).all()  # every targeted one, every time
    others = counts[10:] / draws  # 10 places for 30 others: a third each
    assert np.abs(others - 1 / 3).max() < 4 * np.sqrt(1 / 3 * 2 / 3 / draws)


def test_one_random_number_per_candidate_whatever_the_capacity():
    targeted = np.arange(100) % 3 == 0
    after = []
    for capacity in (0, 5, 100):
        rng = np.random.default_rng(5)
        fill_places(rng, capacity, targeted)
        after.append(rng.random())
    reference = np.random.default_rng(5)
    reference.random(100)
    assert after == [reference.random()] * 3
