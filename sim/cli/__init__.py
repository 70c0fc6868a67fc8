"""The command line: ``python -m sim`` and everything around a run of it.

The Hydra entry point and its checks (:mod:`sim.cli.main`), the sweep callback (plan, progress
bar, comparison report; :mod:`sim.cli.callbacks`) and the provenance and failure records of a run
(:mod:`sim.cli.provenance`).
"""
