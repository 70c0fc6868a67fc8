"""Named random streams derived from a run's seed.

Every purpose (population, illness, disaster, labour, price, each policy's lottery) gets its own
``numpy.random.Generator`` whose ``SeedSequence`` is the run seed plus a spawn key derived from
the stream's name. Streams therefore do not depend on which other streams exist or how many
numbers they drew, which is what keeps random numbers common across scenarios.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stream_key(name: str) -> int:
    """A stable 32-bit key for a stream name (independent of Python's hash seed)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def stream(seed: int, name: str) -> np.random.Generator:
    """The generator for stream ``name`` of run ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream_key(name),)))
