"""The shipped strategies as 1m copies, for tests that replay 1m bars through the live path.

The shipped defaults trade 1h bars (costs would dominate 1m bars): replaying enough 1h bars
to trade would take hundreds of simulated hours. Tests that check fills, not bar lengths, use
these copies: the files unchanged but for their ``timeframe``.
"""

from __future__ import annotations

import re
from pathlib import Path

STRATEGIES = Path(__file__).resolve().parents[1] / "strategies"


def one_minute_copy(tmp_path: Path) -> Path:
    """The shipped strategy files, unchanged but for their timeframe: 1m, so that the lockstep
    replay's 1m bars are the bars they trade on (their defaults trade 1h bars, which would need
    600 hours of replay; the fills, not the bar length, are what parity checks)."""
    folder = tmp_path / "strategies_1m"
    if not folder.is_dir():
        folder.mkdir()
        for source in STRATEGIES.glob("*.py"):
            text = source.read_text()
            one_minute = re.sub(r'^    timeframe = "[0-9]+[mhdw]"$', '    timeframe = "1m"',
                                text, flags=re.MULTILINE)
            assert one_minute != text or source.name.startswith("_"), source.name
            (folder / source.name).write_text(one_minute)
    return folder
