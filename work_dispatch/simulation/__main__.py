"""``python -m work_dispatch.simulation``: see :mod:`work_dispatch.simulation.cli`."""

import sys

from work_dispatch.simulation.cli import main

if __name__ == "__main__":
    sys.exit(main())
