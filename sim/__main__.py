"""``python -m sim``: run the configured scenario (see ``sim.cli.main``)."""

import gc

from sim.cli.main import cli

try:
    cli()
finally:
    # Python's last garbage collection at exit walks every object of the loaded modules (pandas,
    # matplotlib, Mesa, Hydra): 0.2 s of every run and sweep. Frozen objects are not collected;
    # exit handlers and finalizers still run.
    gc.freeze()
