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


def uniform_float32_steps(rng: np.random.Generator, count: int) -> np.ndarray:
    """The next ``count`` single-precision uniforms of ``rng`` as integers ``k = u * 2**24``.

    Exactly the numbers ``rng.random(count, dtype=np.float32) * 2**24`` (uint32), leaving the
    generator where that call leaves it, in about half the time. A lottery ``u < p`` is
    ``k < ceil(p * 2**24)`` (:func:`steps_below`); ``u`` itself is ``k / 2**24``, exactly.

    How: numpy makes a single-precision uniform from a 32-bit word, keeping its top 24 bits,
    and PCG64 (every stream of :func:`stream`) makes its 32-bit words from the low, then the
    high, half of each 64-bit output, keeping the high half for the next word. Reading the
    64-bit outputs with ``random_raw`` gives the same words without the per-number conversion;
    the kept half-word is taken first and left behind as numpy would
    (``tests/test_perf_equivalence.py`` checks numbers and generator states against
    ``rng.random``). Other bit generators, or a big-endian machine, draw through ``rng.random``.
    """
    bits = rng.bit_generator
    if not isinstance(bits, np.random.PCG64) or sys.byteorder != "little":
        return (rng.random(count, dtype=np.float32) * UNIFORM_FLOAT32_STEPS).astype(np.uint32)
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
    return words[:count] >> 8


def steps_below(probability: float) -> int:
    """The integer ``K`` with ``k < K`` exactly when ``k / 2**24 < probability`` (``k`` integer)."""
    return math.ceil(probability * UNIFORM_FLOAT32_STEPS)
