"""Time from launch to the first frame, and to the first frame with market data.

Starts ``python -m tradeterm --demo`` in a 120x40 pseudo-terminal, as a user would, and reads
what it writes: the first frame is the first output that shows the status bar (the PAPER badge);
the first frame with data is the first output showing a price with decimals (the order book or
tape, only drawn once the feed has delivered). Interpreter start-up is included.

    uv run --extra test python benchmarks/first_frame.py [--runs 5]

Budget (docs/architecture.md): first frame under 1.5 s.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pty import PtyApp  # noqa: E402

PRICE = re.compile(r"\d[\d,]{3,}\.\d{2}")
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def text_of(output: str) -> str:
    return ANSI.sub(" ", output)


def one_run() -> tuple[float | None, float | None]:
    with tempfile.TemporaryDirectory() as data:
        app = PtyApp(["--demo"], env={"XDG_DATA_HOME": data})
        try:
            frame = app.wait_for(lambda out: "PAPER" in text_of(out), timeout=20)
            data_at = app.wait_for(lambda out: bool(PRICE.search(text_of(out))), timeout=30)
        finally:
            app.stop()
    return frame, data_at


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    frames, datas = [], []
    for i in range(args.runs):
        frame, data_at = one_run()
        print(f"  run {i + 1}: first frame {frame or float('nan'):.3f} s, "
              f"first frame with data {data_at or float('nan'):.3f} s")
        if frame is not None:
            frames.append(frame)
        if data_at is not None:
            datas.append(data_at)
    if not frames:
        print("no frame seen: is the app broken?")
        sys.exit(1)
    print(f"first frame           : median {statistics.median(frames):.3f} s, "
          f"max {max(frames):.3f} s over {len(frames)} runs (budget 1.5 s)")
    if datas:
        print(f"first frame with data : median {statistics.median(datas):.3f} s, "
              f"max {max(datas):.3f} s over {len(datas)} runs "
              "(includes ccxt import in a thread, simulator start, markets, history, book)")


if __name__ == "__main__":
    main()
