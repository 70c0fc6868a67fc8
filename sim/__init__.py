"""Agent-based simulation of poverty relapse and of the policies that prevent it."""

__version__ = "0.1.0"
