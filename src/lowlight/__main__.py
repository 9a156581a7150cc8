"""``python -m lowlight`` runs the command-line interface (also under torchrun)."""

import sys

from lowlight.cli import main

sys.exit(main())
