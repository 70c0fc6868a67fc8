"""``python -m sim.compare SWEEP_DIR``: (re)build a sweep's comparison report.

The report itself lives in :mod:`sim.analysis.compare`; this module is the command's short name.
"""

import sys

from sim.analysis.compare import main

if __name__ == "__main__":
    sys.exit(main())
