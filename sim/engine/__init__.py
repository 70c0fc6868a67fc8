"""The engine: the Mesa model, its household state, shocks, random streams and ledger.

The monthly schedule lives in :mod:`sim.engine.model`, the household arrays and the synthetic
county in :mod:`sim.engine.population`. Nothing here reads or writes files; :mod:`sim.run` runs
the engine and writes a run's outputs.
"""
