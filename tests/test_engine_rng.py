"""Named random streams: reproducible, independent of each other and of Python's hash seed."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from sim.engine.rng import stream, stream_key

CODE = "from sim.engine.rng import stream; print(stream(3, 'illness').random(3).tolist())"


def test_same_seed_and_name_give_the_same_numbers():
    np.testing.assert_array_equal(
        stream(3, "illness").random(100), stream(3, "illness").random(100)
    )


def test_other_names_and_other_seeds_give_other_numbers():
    base = stream(3, "illness").random(100)
    for other in (stream(3, "disaster"), stream(4, "illness"), stream(3, "policy.illness")):
        assert not np.array_equal(base, other.random(100))


def test_streams_are_uncorrelated():
    names = ["population", "illness", "disaster", "labour", "price", "policy.monitoring"]
    draws = np.array([stream(0, name).random(20_000) for name in names])
    correlation = np.corrcoef(draws)
    off_diagonal = correlation[~np.eye(len(names), dtype=bool)]
    assert np.abs(off_diagonal).max() < 4 / np.sqrt(20_000)  # four standard errors


def test_a_stream_does_not_depend_on_other_streams_being_used():
    alone = stream(5, "price").random(10)
    busy = stream(5, "labour")
    busy.random(1_000)
    np.testing.assert_array_equal(stream(5, "price").random(10), alone)


def test_streams_do_not_depend_on_pythons_hash_seed():
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", CODE], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert 0 <= stream_key("illness") < 2**32
