"""Named random streams derived from a run's seed.

Every purpose (population, illness, disaster, labour, price, each policy's lottery) gets its own
``numpy.random.Generator`` whose ``SeedSequence`` is the run seed plus a spawn key derived from
the stream's name. Streams therefore do not depend on which other streams exist or how many
numbers they drew, which is what keeps random numbers common across scenarios.
"""

from __future__ import annotations

import hashlib
import math
import sys

import numpy as np


def stream_key(name: str) -> int:
    """A stable 32-bit key for a stream name (independent of Python's hash seed)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def stream(seed: int, name: str) -> np.random.Generator:
    """The generator for stream ``name`` of run ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream_key(name),)))


UNIFORM_FLOAT32_STEPS = 2**24
"""Steps of a single-precision uniform: ``rng.random(dtype=np.float32)`` is ``k / 2**24``."""


def uniform_float32_words(rng: np.random.Generator, count: int) -> np.ndarray:
    """The 32-bit words of the next ``count`` single-precision uniforms of ``rng`` (uint32).

    Exactly the words ``rng.random(count, dtype=np.float32)`` makes its uniforms from, leaving
    the generator where that call leaves it, in about half the time. The uniform of word ``w``
    is ``(w >> 8) / 2**24``, exactly: its integer steps ``k = w >> 8`` (:func:`steps_below`), so
    a lottery ``u < p`` is ``w < words_below(p)`` without shifting every word.

    How: numpy makes a single-precision uniform from a 32-bit word, keeping its top 24 bits,
    and PCG64 (every stream of :func:`stream`) makes its 32-bit words from the low, then the
    high, half of each 64-bit output, keeping the high half for the next word. Reading the
    64-bit outputs with ``random_raw`` gives the same words without the per-number conversion;
    the kept half-word is taken first and left behind as numpy would
    (``tests/test_perf_equivalence.py`` checks numbers and generator states against
    ``rng.random``). Other bit generators, or a big-endian machine, draw through ``rng.random``
    (and give words whose low 8 bits are 0).
    """
    bits = rng.bit_generator
    if not isinstance(bits, np.random.PCG64) or sys.byteorder != "little":
        steps = (rng.random(count, dtype=np.float32) * UNIFORM_FLOAT32_STEPS).astype(np.uint32)
        return steps << 8
    state = bits.state
    kept = state["has_uint32"] and count > 0  # a high half-word left by the last draw
    rest = count - kept
    words = bits.random_raw((rest + 1) // 2).view(np.uint32)  # low, high, low, high, ...
    if kept:
        words = np.concatenate([np.array([state["uinteger"]], np.uint32), words])
    if kept or rest:
        state = bits.state
        state["has_uint32"] = rest % 2  # the last output's high half is kept for the next word
        if rest:
            state["uinteger"] = int(words[-1])
        bits.state = state
    return words[:count]


def steps_below(probability: float) -> int:
    """The integer ``K`` with ``k < K`` exactly when ``k / 2**24 < probability`` (``k`` integer)."""
    return math.ceil(probability * UNIFORM_FLOAT32_STEPS)


def steps_below_each(probabilities: np.ndarray) -> np.ndarray:
    """:func:`steps_below` of every probability, capped at ``2**24`` (uint32).

    ``k < K`` for every step ``k`` when the probability is 1 or more.
    """
    steps = np.minimum(np.ceil(probabilities * UNIFORM_FLOAT32_STEPS), UNIFORM_FLOAT32_STEPS)
    return steps.astype(np.uint32)


def words_below(probability: float) -> int:
    """The integer ``W`` with ``w < W`` exactly when the uniform of word ``w`` is below it.

    ``(w >> 8) < K`` is ``w < K * 2**8`` (``K`` of :func:`steps_below`); ``W`` may be ``2**32``
    (every word), a Python integer that numpy compares with uint32 words exactly.
    """
    return steps_below(probability) << 8


def step_quantiles(steps: np.ndarray) -> np.ndarray:
    """Uniforms strictly between 0 and 1 from single-precision uniform steps (``k / 2**24``).

    ``(k + 1/2) / 2**24``: the middle of the step, so a normal quantile of it is finite
    (``|z| < 5.5``).
    """
    return (steps.astype(np.float64) + 0.5) / UNIFORM_FLOAT32_STEPS
