"""``python -m tradeterm`` is ``tradeterm``."""

import sys

from tradeterm.launch import main

sys.exit(main())
