"""Bookkeeping of policy spending: every yuan a policy spends is booked here.

Money reaches households in two ways: as a transfer (added to the month's income) or as an
expense covered on their behalf (subtracted from the month's shock expenditure, e.g. extra
medical reimbursement). Both are booked as ``paid`` to households and added to each household's
payments from the policy (``received_by``: who received anything from which policy, for the
targeting errors; ``received`` is their sum over the policies). Spending that reaches no
household directly (staff, trainers, construction, subsidies to employers) is booked as
``overhead``. Hence, for every run and every policy, ``paid == received`` and
``cost = paid + overhead``.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from sim.engine.state import HouseholdState


class Ledger:
    """Per-policy totals of money paid to households and of overhead (yuan)."""

    def __init__(self, state: HouseholdState):
        self._state = state
        self.paid: defaultdict[str, float] = defaultdict(float)
        self.overhead: defaultdict[str, float] = defaultdict(float)
        self.received_by: dict[str, np.ndarray] = {}  # per policy, per household, whole run
        self.month_spending = 0.0
        self._month_rows: defaultdict[str, list[np.ndarray]] = defaultdict(list)  # paid this month

    def transfer(self, policy: str, households: np.ndarray, amounts: np.ndarray | float) -> None:
        """Pay ``amounts`` yuan to ``households`` (a boolean mask or unique indices)."""
        rows, amounts = self._rows_and_amounts(households, amounts)
        np.add.at(self._state.policy_transfers_month, rows, amounts)
        np.add.at(self._state.policy_ytd, rows, amounts)
        self._book(policy, rows, amounts)

    def cover_expense(
        self, policy: str, households: np.ndarray, amounts: np.ndarray | float
    ) -> None:
        """Pay ``amounts`` yuan of the month's shock expenditure of ``households``."""
        rows, amounts = self._rows_and_amounts(households, amounts)
        np.subtract.at(self._state.expense_month, rows, amounts)
        self._book(policy, rows, amounts)

    def spend_overhead(self, policy: str, amount: float) -> None:
        """Book ``amount`` yuan spent by ``policy`` that no household receives directly."""
        self.overhead[policy] += float(amount)
        self.month_spending += float(amount)

    @property
    def received(self) -> np.ndarray:
        """Per household, what every policy paid it over the run (yuan): ``received_by`` summed."""
        total = np.zeros(self._state.count)
        for paid in self.received_by.values():
            total += paid
        return total

    def paid_this_month(self, policy: str) -> np.ndarray:
        """The households ``policy`` paid since the month's book was closed (rows, may repeat)."""
        rows = self._month_rows.get(policy)
        return np.concatenate(rows) if rows else np.zeros(0, np.intp)

    def close_month(self) -> float:
        """Close the month's book: returns the month's spending; spending and payments restart."""
        spending, self.month_spending = self.month_spending, 0.0
        self._month_rows.clear()
        return spending

    def cost(self, policy: str) -> float:
        """Total cost of ``policy`` so far, yuan."""
        return self.paid[policy] + self.overhead[policy]

    @staticmethod
    def _rows_and_amounts(
        households: np.ndarray, amounts: np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row indices of ``households`` and one amount per row.

        A boolean mask is turned into indices once: numpy updates ``array[indices]`` many times
        faster than ``array[mask]``. The rows are unique, so the unbuffered ``np.add.at`` adds
        each amount once, exactly as ``array[rows] += amounts`` does, in half its time (one pass
        instead of a gather, an addition and a scatter).
        """
        rows = np.flatnonzero(households) if households.dtype == bool else households
        return rows, np.broadcast_to(np.asarray(amounts, dtype=float), rows.shape)

    def _book(self, policy: str, rows: np.ndarray, amounts: np.ndarray) -> None:
        if np.any(amounts < 0):
            raise ValueError(f"policy {policy!r} booked a negative payment")
        total = float(amounts.sum())
        if policy not in self.received_by:
            self.received_by[policy] = np.zeros(self._state.count)
        np.add.at(self.received_by[policy], rows, amounts)
        self._month_rows[policy].append(rows.copy())
        self.paid[policy] += total
        self.overhead[policy] += 0.0  # every active policy appears in the totals
        self.month_spending += total
