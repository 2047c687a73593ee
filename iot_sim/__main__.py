"""``python -m iot_sim`` — see :mod:`iot_sim.cli`."""

import sys

from iot_sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
