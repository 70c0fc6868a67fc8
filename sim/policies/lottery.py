"""Places by priority lottery: targeted candidates first, then the others, up to a capacity.

Every policy that rations places (workshop jobs, training places, relocations, east-west
placements) fills them the same way, with :func:`fill_places`: each candidate draws one uniform
key from the policy's own stream, and candidates are served by (group, targeted first, key)
until each group's places run out. The number of random numbers drawn is the number of
candidates, whatever the capacity, so a policy's stream stays aligned across scenarios that
change only its capacity.
"""

from __future__ import annotations

import numpy as np


def rank_within_groups(groups: np.ndarray, *keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order entries by group then by ``keys`` (most significant first); rank within each group.

    Returns:
        ``order`` (indices into the entries, sorted) and ``rank`` (0 for the first entry of its
        group in ``order``, 1 for the next, ...), both of the entries' length.
    """
    order = np.lexsort((*reversed(keys), groups))
    sorted_groups = groups[order]
    first = np.searchsorted(sorted_groups, sorted_groups, side="left")
    return order, np.arange(order.size) - first


def fill_places(
    rng: np.random.Generator,
    capacity: int | np.ndarray,
    targeted: np.ndarray,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Choose candidates for places: targeted ones first, then the others, by lottery.

    Args:
        rng: the policy's own stream; one uniform key is drawn per candidate.
        capacity: places, a number (negative counts as 0); with ``groups``, an array of places
            per group.
        targeted: per candidate, whether it is served before the others (all alike: a plain
            lottery).
        groups: per candidate, the index of its group (e.g. its village), whose ``capacity``
            applies to it; None: one group.

    Returns:
        Indices of the chosen candidates in the order they were served: by group, targeted
        first, then by key. Each group gets ``min(capacity, candidates)`` of its candidates.
    """
    key = rng.random(targeted.size)
    if groups is not None:
        order, rank = rank_within_groups(groups, ~targeted, key)
        return order[rank < np.asarray(capacity)[groups[order]]]
    places = min(max(int(capacity), 0), targeted.size)
    first = _smallest_keys(np.flatnonzero(targeted), key, places)
    if first.size == places:  # the targeted candidates took every place
        return first
    rest = _smallest_keys(np.flatnonzero(~targeted), key, places - first.size)
    return np.concatenate([first, rest])


def _smallest_keys(candidates: np.ndarray, key: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` candidates (all if fewer) with the smallest keys, sorted by key.

    A partial sort: only the chosen few are sorted, so filling a few places among many
    candidates costs O(candidates), not a full sort.
    """
    if k <= 0:
        return candidates[:0]
    if k < candidates.size:
        candidates = candidates[np.argpartition(key[candidates], k - 1)[:k]]
    return candidates[np.lexsort((candidates, key[candidates]))]


def entry_households(rows: np.ndarray, counts: np.ndarray, entries: np.ndarray) -> np.ndarray:
    """The households of ``entries`` of a list with ``counts[i]`` entries for household ``rows[i]``.

    The same as ``np.repeat(rows, counts)[entries]`` without building the list: an entry's
    household is found from the running count (only the chosen few are looked up).
    """
    if entries.size == 0:
        return rows[:0]
    return rows[np.searchsorted(np.cumsum(counts), entries, side="right")]
