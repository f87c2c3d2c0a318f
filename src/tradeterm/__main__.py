"""``python -m tradeterm`` is ``tradeterm``."""

import sys

from tradeterm.cli import main

sys.exit(main())
