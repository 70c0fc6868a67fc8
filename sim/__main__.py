"""``python -m sim``: run the configured scenario (see ``sim.cli.main``)."""

from sim.cli.main import cli

cli()
