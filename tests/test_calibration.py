"""The calibration method on a toy model whose posterior is known (sim.studies.calibration)."""

import numpy as np
import pytest

from sim.studies.calibration import (
    MatchSettings,
    Observation,
    calibrate,
    implausibility,
    maximin_subset,
    plausible,
    split_budget,
    weighted_quantiles,
)

TRUTH = np.array([0.3, 0.6])  # the toy's first two parameters; the third does nothing
SIGMA = 0.03  # the observations' standard deviation
NOISE = 0.01  # the toy's seed noise


def toy_statistics(unit: np.ndarray) -> np.ndarray:
    """Three statistics of a toy model, linear in the first two parameters."""
    a, b = unit[:, 0], unit[:, 1]
    return np.column_stack([2 * a + 1, a - b + 0.5, 3 * b])


def toy_simulate(calls: list[np.ndarray]):
    def simulate(wave: int, unit: np.ndarray) -> np.ndarray:
        calls.append(unit)
        seeds = [np.random.default_rng([wave, seed]) for seed in range(2)]
        return np.stack(
            [toy_statistics(unit) + rng.normal(0, NOISE, (len(unit), 3)) for rng in seeds],
            axis=1,
        )

    return simulate


def observations(held_out_value: float | None = None) -> list[Observation]:
    values = toy_statistics(TRUTH[None, :])[0]
    targets = [
        Observation(f"s{i}", v, v - 1.96 * SIGMA, v + 1.96 * SIGMA) for i, v in enumerate(values)
    ]
    if held_out_value is not None:
        targets.append(
            Observation("held", held_out_value, held_out_value - 1, held_out_value + 1, fit=False)
        )
    return targets


def exact_posterior_mean() -> np.ndarray:
    """The posterior mean of (a, b) by quadrature: uniform prior, Gaussian likelihood."""
    grid = np.linspace(0, 1, 401)
    a, b = np.meshgrid(grid, grid, indexing="ij")
    points = np.column_stack([a.ravel(), b.ravel()])
    observed = toy_statistics(TRUTH[None, :])[0]
    variance = SIGMA**2 + NOISE**2 / 2  # the emulated mean of two seeds carries their noise
    log_l = -0.5 * np.sum((toy_statistics(points) - observed) ** 2, axis=1) / variance
    weight = np.exp(log_l - log_l.max())
    return (points * weight[:, None]).sum(axis=0) / weight.sum()


@pytest.fixture(scope="module")
def toy():
    calls: list[np.ndarray] = []
    settings = MatchSettings(discrepancy=0.0, seed=1)
    result = calibrate(toy_simulate(calls), observations(), 3, [24, 16, 16, 10], settings)
    return result, calls


def test_toy_posterior_covers_the_known_parameters_in_its_90_percent_interval(toy):
    result, _ = toy
    for dim, truth in enumerate(TRUTH):
        low, high = weighted_quantiles(result.posterior_unit[:, dim], result.weights, [0.05, 0.95])
        assert low <= truth <= high
        assert high - low < 0.15  # identified: far narrower than the prior's 0.9
    low, high = weighted_quantiles(result.posterior_unit[:, 2], result.weights, [0.05, 0.95])
    assert high - low > 0.7  # the parameter the toy ignores stays as wide as its prior


def test_toy_posterior_mean_matches_the_exact_posterior(toy):
    result, _ = toy
    mean = (result.posterior_unit[:, :2] * result.weights[:, None]).sum(axis=0)
    np.testing.assert_allclose(mean, exact_posterior_mean(), atol=0.02)
    assert len(result.posterior_unit) == 200 * 20  # chains x kept states
    assert 0.1 < result.acceptance < 0.9


def test_waves_shrink_to_the_region_not_ruled_out(toy):
    result, calls = toy
    assert [len(c) for c in calls] == [24, 16, 16, 10]
    assert [w.kind for w in result.waves] == ["history_matching"] * 3 + ["check"]
    shares = [w.nroy_share for w in result.waves]
    assert shares[0] == 1.0 and 0 < shares[2] <= shares[1] < 0.5
    later = np.concatenate(calls[1:3])[:, :2]
    assert np.all(np.abs(later - TRUTH).max(axis=1) < 0.25)  # waves 2-3 run near the truth
    check = toy_statistics(result.check.unit)
    observed = toy_statistics(TRUTH[None, :])[0]
    assert np.all(np.abs(check.mean(axis=0) - observed) < 2 * SIGMA)


def test_a_held_out_target_does_not_move_the_fit():
    settings = MatchSettings(discrepancy=0.0, seed=2, posterior_candidates=5_000)
    fitted = calibrate(toy_simulate([]), observations(), 3, [12, 8, 4], settings)

    def with_extra(wave: int, unit: np.ndarray) -> np.ndarray:
        values = toy_simulate([])(wave, unit)
        return np.concatenate([values, values[:, :, :1] * 10], axis=2)

    extra = calibrate(with_extra, observations(held_out_value=-50.0), 3, [12, 8, 4], settings)
    np.testing.assert_array_equal(fitted.posterior_unit, extra.posterior_unit)
    np.testing.assert_array_equal(fitted.weights, extra.weights)


def test_split_budget_gives_each_wave_its_points_and_refuses_too_few():
    assert split_budget(16, 1, 2, 0.2) == [7, 6, 3]
    assert split_budget(300, 2, 3, 0.2) == [40, 40, 40, 30]
    assert sum(split_budget(301, 1, 3, 0.2)) == 301
    with pytest.raises(ValueError, match="need at least 8"):
        split_budget(10, 2, 3, 0.2)


def test_maximin_subset_spreads_the_points():
    rng = np.random.default_rng(0)
    candidates = rng.random((2_000, 2))
    chosen = maximin_subset(candidates, 10, rng)
    random = candidates[:10]
    gaps = [
        np.min([np.linalg.norm(p - q) for j, q in enumerate(s) if j != i])
        for s in (chosen, random)
        for i, p in enumerate(s)
    ]
    assert min(gaps[:10]) > min(gaps[10:])
    assert len({tuple(p) for p in chosen}) == 10


def test_the_cheap_nroy_check_equals_the_largest_implausibility_rule(toy):
    result, _ = toy
    settings = MatchSettings(discrepancy=0.0, seed=1)
    unit = np.random.default_rng(5).random((3_000, 3))
    unit[:1_000, :2] = TRUTH + 0.05 * (unit[:1_000, :2] - 0.5)  # some points near the truth
    worst = np.max(
        [implausibility(e, unit, observations(), settings) for e in result.emulators], axis=0
    )
    mask = plausible(result.emulators, unit, observations(), settings)
    np.testing.assert_array_equal(mask, worst <= settings.cutoff)
    assert 0 < mask.sum() < len(unit)
