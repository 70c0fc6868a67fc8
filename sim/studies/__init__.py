"""Studies that make a result citable: declared uncertainty, global sensitivity, robust comparison.

- :mod:`sim.studies.uncertainty`: the declared ranges of the parameters no source pins
  (``configs/uncertainty/default.yaml``);
- :mod:`sim.studies.design`: the designs (Morris, Sobol', Latin hypercube, posterior draws);
- :mod:`sim.studies.sweeper`: the Hydra sweepers that run a design through the configured
  launcher (``python -m sim -m +experiment=sensitivity`` / ``robust_comparison``);
- :mod:`sim.studies.runs`: a study's files and runs as one table;
- :mod:`sim.studies.sensitivity` and :mod:`sim.studies.robust`: the analyses (files only, never
  the model), also runnable on a finished study folder as ``python -m sim.studies.<name> DIR``.
"""
