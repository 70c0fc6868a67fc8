"""``python -m sim``: run the configured scenario (see ``sim.app``)."""

from sim.app import cli

cli()
