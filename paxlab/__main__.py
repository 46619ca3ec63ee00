"""`python -m paxlab` runs the same command as `paxlab`."""

import sys

from paxlab.cli import main

sys.exit(main())
