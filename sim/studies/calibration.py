"""Calibration: history matching with Gaussian-process emulators, then a posterior.

The model is fitted to observed statistics (``configs/targets/calibration.yaml``, read by
:mod:`sim.studies.targets`) by varying declared uncertain parameters within their prior ranges
(``configs/uncertainty/default.yaml``). Every design is made in the unit hypercube (one column per
parameter) and mapped to values through the declared distributions, so a uniform density on the
hypercube is the declared prior.

The method (docs/calibration.md gives the reasons for it):

1. **Waves of history matching.** Wave 1 runs a Latin hypercube of points. After each wave a
   Gaussian-process emulator per target is fitted to every point run so far (mean over seeds;
   scikit-learn, an anisotropic squared-exponential kernel plus a white-noise term that takes the
   seeds' noise; one optimiser restart). Linear algebra runs on one thread: the same runs give
   the same emulators, so an interrupted calibration resumes into the same waves. A point's
   *implausibility* for a target is
   ``|emulated - observed| / sqrt(emulator variance + observation variance + discrepancy
   variance)``; a point is *not ruled out yet* (NROY) when its largest implausibility over the
   fitted targets is at most ``cutoff`` (3, Pukelsheim's three-sigma rule) under every emulator so
   far. The next wave runs a space-filling (greedy maximin) subset of NROY candidates.
2. **Posterior.** The last emulators give a Gaussian likelihood of the observations at any point;
   the posterior is the prior restricted to NROY times that likelihood, sampled by random-walk
   Metropolis chains (:func:`sample_posterior`; cheap, the emulators stand in for the model). Its
   acceptance rate is reported.
3. **Check.** The model itself runs on draws from the posterior: the fit table compares those
   runs with the observations, for the fitted targets and the held-out ones alike.

The observation's interval ``[low, high]`` is read as a central 95% interval
(``sigma = (high - low) / 3.92``); the discrepancy is ``discrepancy x |observed|`` (a share of
the observed value: the model is a simplification, an assumption stated in the docs).

:func:`calibrate` runs the method with any ``simulate(wave, unit_points)`` function: the study's
sweeper launches model runs through Hydra's launcher; the tests pass a toy model with a known
posterior through the same code.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

Z95 = 1.959964  # the observation's [low, high] is a central 95% interval
Simulate = Callable[[int, np.ndarray], np.ndarray]
"""``simulate(wave, unit)``: values of shape (points, seeds, targets); NaN where a run failed."""


@dataclass(frozen=True)
class Observation:
    """An observed statistic the model is compared with.

    Attributes:
        name: the target's name.
        observed: the observed value (the statistic's unit).
        low: lower end of the observation's central 95% interval.
        high: upper end of the observation's central 95% interval.
        fit: True for a target the calibration fits; False for one held out to check the fit.
    """

    name: str
    observed: float
    low: float
    high: float
    fit: bool = True

    @property
    def sigma(self) -> float:
        """Standard deviation of the observation (half the interval over 1.96)."""
        return (self.high - self.low) / (2 * Z95)


@dataclass(frozen=True)
class MatchSettings:
    """Settings of the method (the study's ``calibration:`` node gives the defaults' reasons).

    Attributes:
        cutoff: largest implausibility of a point not ruled out (3: three-sigma rule).
        discrepancy: model discrepancy as a share of the observed value (standard deviation).
        candidates: prior candidates drawn at a time to find a wave's NROY points.
        posterior_candidates: NROY candidates sought to start the posterior's chains (drawn
            50,000 at a time from the prior, at most ten times, then grown around those found).
        chains: Metropolis chains of the posterior.
        steps: steps of each chain (a third burn-in, then every tenth state kept).
        seed: seed of the designs, candidates and resampling.
    """

    cutoff: float = 3.0
    discrepancy: float = 0.05
    candidates: int = 10_000
    posterior_candidates: int = 20_000
    chains: int = 200
    steps: int = 300
    seed: int = 0


class Emulator:
    """One Gaussian process per target, fitted on unit-hypercube points.

    Args:
        unit: points (n, d) in [0, 1].
        values: outcomes (n, targets); NaN values (failed runs) are left out of that target's fit.
        seed: seed of the optimiser's restarts.
    """

    def __init__(self, unit: np.ndarray, values: np.ndarray, seed: int) -> None:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        dims = unit.shape[1]
        self.models = []
        for column in values.T:
            ok = np.isfinite(column)
            if ok.sum() < 2:
                raise ValueError("an emulator needs at least two finished runs per target")
            kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(
                np.full(dims, 0.5), (1e-2, 1e2)
            ) + WhiteKernel(1e-2, (1e-8, 1.0))
            model = GaussianProcessRegressor(
                kernel, normalize_y=True, n_restarts_optimizer=1, random_state=seed
            )
            with warnings.catch_warnings(), threadpool_limits(1):
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(unit[ok], column[ok])
            self.models.append(model)

    def predict(self, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emulated means and variances (points, targets), the white noise included."""
        pairs = [self.predict_target(j, unit) for j in range(len(self.models))]
        return np.column_stack([m for m, _ in pairs]), np.column_stack([v for _, v in pairs])

    def predict_target(self, target: int, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emulated mean and variance of one target (points,)."""
        mean, variance = np.empty(len(unit)), np.empty(len(unit))
        for first in range(0, len(unit), 5_000):  # bounded memory: (training runs x 5,000) floats
            rows = slice(first, first + 5_000)
            with threadpool_limits(1):
                m, std = self.models[target].predict(unit[rows], return_std=True)
            mean[rows], variance[rows] = m, std**2
        return mean, variance


def _variances(targets: list[Observation], settings: MatchSettings) -> np.ndarray:
    """Observation plus discrepancy variance of each target."""
    return np.array([t.sigma**2 + (settings.discrepancy * abs(t.observed)) ** 2 for t in targets])


def _fitted_residuals(
    emulator: Emulator, unit: np.ndarray, targets: list[Observation], settings: MatchSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Emulated minus observed, and the total variance, of the fitted targets (points, fitted)."""
    mean, variance = emulator.predict(unit)
    fitted = np.array([t.fit for t in targets])
    observed = np.array([t.observed for t in targets])
    total = variance + _variances(targets, settings)
    return (mean - observed)[:, fitted], total[:, fitted]


def implausibility(
    emulator: Emulator, unit: np.ndarray, targets: list[Observation], settings: MatchSettings
) -> np.ndarray:
    """Largest implausibility over the fitted targets of each point (points,)."""
    residual, total = _fitted_residuals(emulator, unit, targets, settings)
    return (np.abs(residual) / np.sqrt(total)).max(axis=1)


def plausible(
    emulators: list[Emulator],
    unit: np.ndarray,
    targets: list[Observation],
    settings: MatchSettings,
) -> np.ndarray:
    """Whether each point is NROY: every fitted target within the cutoff under every emulator.

    Equivalent to the largest :func:`implausibility` over the emulators being at most the cutoff,
    but each target is emulated only where no earlier check ruled the point out (the latest
    emulator first), which is far cheaper when most of the prior is ruled out.
    """
    alive = np.ones(len(unit), dtype=bool)
    extra = _variances(targets, settings)
    for emulator in reversed(emulators):
        for j, target in enumerate(targets):
            rows = np.flatnonzero(alive)
            if not target.fit or not len(rows):
                continue
            mean, variance = emulator.predict_target(j, unit[rows])
            scale = np.sqrt(variance + extra[j])
            alive[rows] = np.abs(mean - target.observed) <= settings.cutoff * scale
    return alive


def log_likelihood(
    emulator: Emulator, unit: np.ndarray, targets: list[Observation], settings: MatchSettings
) -> np.ndarray:
    """Gaussian log-likelihood of the fitted observations at each point (points,)."""
    residual, total = _fitted_residuals(emulator, unit, targets, settings)
    return -0.5 * np.sum(residual**2 / total + np.log(2 * math.pi * total), axis=1)


def latin_hypercube(points: int, dims: int, seed: int) -> np.ndarray:
    """A Latin hypercube of ``points`` in ``dims`` dimensions (scipy's sampler)."""
    from scipy.stats import qmc

    return np.asarray(qmc.LatinHypercube(d=dims, seed=seed).random(points))


def maximin_subset(candidates: np.ndarray, points: int, rng: np.random.Generator) -> np.ndarray:
    """``points`` candidates chosen greedily, each farthest from those already chosen."""
    if len(candidates) <= points:
        return candidates.copy()
    chosen = [int(rng.integers(len(candidates)))]
    distance = np.linalg.norm(candidates - candidates[chosen[0]], axis=1)
    for _ in range(points - 1):
        chosen.append(int(np.argmax(distance)))
        distance = np.minimum(distance, np.linalg.norm(candidates - candidates[chosen[-1]], axis=1))
    return candidates[chosen]


@dataclass
class NotRuledOut:
    """Prior candidates that no emulator so far rules out.

    Attributes:
        unit: the NROY candidates (or, when none is left, the least implausible ones).
        share: share of prior candidates not ruled out (an estimate of NROY's prior mass).
        matched: False when no candidate met the cutoff (the least implausible are used).
    """

    unit: np.ndarray
    share: float
    matched: bool


def not_ruled_out(
    emulators: list[Emulator],
    targets: list[Observation],
    settings: MatchSettings,
    rng: np.random.Generator,
    wanted: int,
    draw: int,
) -> NotRuledOut:
    """Draw prior candidates (``draw`` at a time, at most ten times) until ``wanted`` are NROY."""
    dims = emulators[0].models[0].n_features_in_
    kept, drawn = [], 0
    for _ in range(10):
        unit = rng.random((draw, dims))
        drawn += draw
        kept.append(unit[plausible(emulators, unit, targets, settings)])
        if sum(len(k) for k in kept) >= wanted:
            break
    found = np.concatenate(kept)
    if len(found):
        share = len(found) / drawn
        if len(found) < wanted:  # a small region: search around the NROY points found
            found = _grow(found, emulators, targets, settings, rng, wanted)
        return NotRuledOut(found, share, matched=True)
    # Nothing meets the cutoff: the least implausible of the last draw, by the latest emulator.
    worst = implausibility(emulators[-1], unit, targets, settings)
    return NotRuledOut(unit[np.argsort(worst)[:wanted]], 0.0, matched=False)


def _grow(
    found: np.ndarray,
    emulators: list[Emulator],
    targets: list[Observation],
    settings: MatchSettings,
    rng: np.random.Generator,
    wanted: int,
) -> np.ndarray:
    """More NROY candidates near ``found``: jittered copies that stay NROY (twenty tries)."""
    spread = np.maximum(found.std(axis=0), 0.01)
    for _ in range(20):
        parents = found[rng.integers(len(found), size=min(4 * wanted, 20_000))]
        children = np.clip(parents + rng.normal(0.0, 0.5 * spread, parents.shape), 0.0, 1.0)
        found = np.concatenate([found, children[plausible(emulators, children, targets, settings)]])
        if len(found) >= wanted:
            break
    return found


def sample_posterior(
    emulators: list[Emulator],
    start: np.ndarray,
    targets: list[Observation],
    settings: MatchSettings,
    rng: np.random.Generator,
) -> tuple[np.ndarray, float]:
    """Posterior draws by random-walk Metropolis on the emulated likelihood.

    The target density is the prior (uniform on the unit hypercube) restricted to NROY times the
    last emulator's Gaussian likelihood. ``settings.chains`` chains start from NROY candidates
    resampled by likelihood; the proposal is Gaussian with the candidates' covariance scaled by
    ``2.38**2 / dims`` (Roberts, Gelman and Gilks), shrunk or widened every 20 steps of the
    burn-in (the first third of ``settings.steps``) towards an acceptance between 15% and 40%;
    then every tenth state of every chain is a draw.

    Returns:
        The draws (chains x kept states, dims) and the acceptance rate after burn-in.
    """
    dims = start.shape[1]
    log_start = log_likelihood(emulators[-1], start, targets, settings)
    weights = np.exp(log_start - log_start.max())
    rows = _resample(weights, settings.chains, rng)
    state, log_p = start[rows].copy(), log_start[rows].copy()
    covariance = np.atleast_2d(np.cov(start.T, aweights=weights)) if len(start) > dims else None
    if covariance is None or not np.all(np.isfinite(covariance)):
        covariance = np.eye(dims) * 0.01
    covariance = covariance * 2.38**2 / dims + np.eye(dims) * 1e-8
    scale = np.linalg.cholesky(covariance)
    burn, draws, accepted, factor, recent = settings.steps // 3, [], 0, 1.0, 0
    for step in range(settings.steps):
        if step < burn and step and step % 20 == 0:  # tune the step size during burn-in
            rate = recent / (20 * len(state))
            factor *= 0.6 if rate < 0.15 else 1.5 if rate > 0.4 else 1.0
            recent = 0
        proposal = state + factor * rng.standard_normal(state.shape) @ scale.T
        inside = np.flatnonzero(np.all((proposal >= 0) & (proposal <= 1), axis=1))
        ok = inside[plausible(emulators, proposal[inside], targets, settings)]
        log_new = np.full(len(state), -np.inf)
        log_new[ok] = log_likelihood(emulators[-1], proposal[ok], targets, settings)
        accept = np.log(rng.random(len(state))) < log_new - log_p
        state[accept], log_p[accept] = proposal[accept], log_new[accept]
        recent += int(accept.sum())
        accepted += int(accept.sum()) if step >= burn else 0
        if step >= burn and (step - burn) % 10 == 0:
            draws.append(state.copy())
    return np.concatenate(draws), accepted / (settings.chains * (settings.steps - burn))


@dataclass
class Wave:
    """One wave's runs.

    Attributes:
        number: 0, 1, ... in the order run; the check wave comes last.
        kind: ``history_matching`` or ``check``.
        unit: the wave's points (points, dims) in the unit hypercube.
        values: the runs' statistics (points, seeds, targets).
        nroy_share: share of the prior not ruled out when the wave was chosen (1 for wave 0).
        matched: False when no candidate met the cutoff before this wave.
    """

    number: int
    kind: str
    unit: np.ndarray
    values: np.ndarray
    nroy_share: float = 1.0
    matched: bool = True


@dataclass
class Calibration:
    """What :func:`calibrate` found.

    Attributes:
        waves: the waves run, the check wave last.
        posterior_unit: posterior draws (m, dims) in the unit hypercube.
        weights: their normalised weights (m,), equal for Metropolis draws.
        nroy_share: share of the prior not ruled out by the last emulators.
        matched: False when no candidate met the cutoff at the end (the least implausible used).
        acceptance: the Metropolis acceptance rate of the posterior's chains.
    """

    waves: list[Wave]
    posterior_unit: np.ndarray
    weights: np.ndarray
    nroy_share: float
    matched: bool
    acceptance: float
    emulators: list[Emulator] = field(default_factory=list, repr=False)

    @property
    def check(self) -> Wave:
        """The wave run on posterior draws."""
        return self.waves[-1]


def split_budget(budget: int, seeds: int, waves: int, check_share: float) -> list[int]:
    """Points per history-matching wave, then the check wave's, from ``budget`` simulations.

    Raises:
        ValueError: the budget leaves fewer than two points for a wave.
    """
    points = budget // seeds
    check = max(2, round(points * check_share))
    matching = points - check
    if waves < 1 or matching < 2 * waves:
        raise ValueError(
            f"{budget} simulations on {seeds} seed(s) give {points} points: need at least "
            f"{2 * max(waves, 1) + 2} for {waves} wave(s) of two points and a check of two"
        )
    sizes = [matching // waves] * waves
    sizes[0] += matching - sum(sizes)
    return [*sizes, check]


def _resample(weights: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Row numbers of ``draws`` systematic resamples with probability proportional to weight."""
    cumulative = np.cumsum(weights / weights.sum())
    cumulative[-1] = 1.0
    return np.searchsorted(cumulative, (rng.random() + np.arange(draws)) / draws, side="right")


def calibrate(
    simulate: Simulate,
    targets: list[Observation],
    dims: int,
    sizes: list[int],
    settings: MatchSettings,
) -> Calibration:
    """History-match, weigh the posterior, then check it with the model (module docstring).

    Args:
        simulate: runs the model at unit-hypercube points: ``simulate(wave, unit)`` gives values
            (points, seeds, targets) in the order of ``targets``, NaN for a failed run.
        targets: the observations, fitted and held out.
        dims: number of calibrated parameters.
        sizes: points of each history-matching wave, then of the check wave
            (:func:`split_budget`).
        settings: the method's settings.
    """
    rng = np.random.default_rng(settings.seed)
    waves: list[Wave] = []
    emulators: list[Emulator] = []
    region = NotRuledOut(np.empty((0, dims)), 1.0, matched=True)
    for number, points in enumerate(sizes[:-1]):
        if number == 0:
            unit = latin_hypercube(points, dims, settings.seed)
        else:
            region = not_ruled_out(
                emulators, targets, settings, rng, wanted=20 * points, draw=settings.candidates
            )
            unit = maximin_subset(region.unit, points, rng)
        values = simulate(number, unit)
        waves.append(Wave(number, "history_matching", unit, values, region.share, region.matched))
        every_unit = np.concatenate([w.unit for w in waves])
        every_mean = np.concatenate([np.nanmean(w.values, axis=1) for w in waves])
        emulators.append(Emulator(every_unit, every_mean, settings.seed))

    final = not_ruled_out(
        emulators, targets, settings, rng, wanted=settings.posterior_candidates, draw=50_000
    )
    draws, acceptance = sample_posterior(emulators, final.unit, targets, settings, rng)
    weights = np.full(len(draws), 1.0 / len(draws))
    check_unit = draws[_resample(weights, sizes[-1], rng)]
    values = simulate(len(waves), check_unit)
    waves.append(Wave(len(waves), "check", check_unit, values, final.share, final.matched))
    return Calibration(
        waves, draws, weights, final.share, final.matched, acceptance, emulators=emulators
    )


def weighted_quantiles(
    values: np.ndarray, weights: np.ndarray, quantiles: list[float]
) -> np.ndarray:
    """Quantiles of ``values`` (m,) under normalised ``weights`` (m,)."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    cumulative /= cumulative[-1]
    return np.interp(quantiles, cumulative - weights[order] / 2, values[order])
