"""A researcher's own policy, kept outside ``sim/``: see ``cash_transfer.py``."""
