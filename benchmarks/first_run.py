"""A fresh clone's first ``uv run tradeterm --demo``: install included, as a new user meets it.

Clones the repository at a commit (default: HEAD) into a temporary folder, points uv at an
empty package cache (``UV_CACHE_DIR`` in a temporary folder: everything is downloaded from the
registry) and an empty ``XDG_CACHE_HOME``, and runs ``uv run tradeterm --demo`` in a 120x40
pseudo-terminal. Prints the time from launch to the first frame (the status bar's PAPER badge)
and to market data on screen (the status bar's "● live"), for:

1. cold package cache, first run in a fresh clone (download, venv, install, first frame);
2. the second launch in that clone;
3. warm package cache, first run in another fresh clone (what a second checkout costs);
4. the second launch in that clone.

It also prints uv's summary lines with the time since launch each appeared ("Installed 58
packages" marks the end of download and install), so the share of the download is visible.
``PYTHONDONTWRITEBYTECODE=1`` is set by default, as on the machines that motivated
``[tool.uv]`` (containers, CI); ``--bytecode`` leaves it unset.

    python benchmarks/first_run.py [--rev HEAD] [--bytecode]

Budget (issue 11): first frame of the cold first run under 20 s; later launches print nothing
from uv and add no compile step.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pty import REPO, PtyApp  # noqa: E402

BUDGET_COLD_S = 20.0
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]")
LIVE = "● live"  # the status bar once the streams are connected: market data on screen
# uv's summary lines ("Installed 58 packages in 260ms", "Bytecode compiled 4259 files in 29.91s")
UV_SUMMARY = re.compile(
    r"(Resolved|Prepared|Installed|Uninstalled|Audited|Bytecode compiled)\s+\d+\s+\w+\s+in\s+"
    r"[\d.]+m?s"
)


def text_of(output: str) -> str:
    return ANSI.sub(" ", output)


class UvRunApp(PtyApp):
    """``uv run tradeterm ARGS`` in a pty, in ``cwd`` (PtyApp runs ``python -m tradeterm``)."""

    def __init__(self, cwd: Path, args: list[str], env: dict[str, str]) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        full_env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor", **env}
        full_env.pop("VIRTUAL_ENV", None)  # the clone's own .venv, not the caller's
        full_env.pop("PYTHONPYCACHEPREFIX", None)  # the empty XDG_CACHE_HOME decides
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            ["uv", "run", "tradeterm", *args],
            stdin=slave, stdout=slave, stderr=slave, env=full_env, cwd=cwd,
            start_new_session=True,
        )
        os.close(slave)
        self.output = bytearray()
        self.first_byte_at = None
        self.marks: dict[str, float] = {}  # uv summary line -> seconds since launch
        self._scanned = 0

    def pump(self, timeout: float = 0.05) -> int:
        read = super().pump(timeout)
        if read:
            # only what arrived since the last scan (plus an overlap for a line split in two)
            tail = text_of(self.output[max(0, self._scanned - 300):].decode("utf-8", "replace"))
            self._scanned = len(self.output)
            for match in UV_SUMMARY.finditer(tail):
                line = " ".join(match.group(0).split())
                self.marks.setdefault(line, time.perf_counter() - self.started)
        return read


def clone(rev: str, dest: Path) -> None:
    sha = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", rev], check=True, capture_output=True, text=True
    ).stdout.strip()
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(REPO), str(dest)], check=True)
    subprocess.run(["git", "-C", str(dest), "checkout", "--quiet", "--detach", sha], check=True)


def shown(seconds: float | None) -> str:
    return f"{seconds:7.2f} s" if seconds is not None else "   none  "


def one_launch(cwd: Path, env: dict[str, str], label: str) -> tuple[float | None, float | None]:
    app = UvRunApp(cwd, ["--demo"], env)
    try:
        frame = app.wait_for(lambda out: "PAPER" in text_of(out), timeout=300)
        # Let the first session get as far as a user's would (ccxt imported, data on screen),
        # so the second launch measures what a second launch costs.
        data_at = app.wait_for(lambda out: LIVE in text_of(out), timeout=120)
    finally:
        app.stop()
    text = text_of(app.output.decode("utf-8", "replace"))
    print(f"{label:<40} first frame {shown(frame)}   streams live {shown(data_at)}")
    for line, at in app.marks.items():
        print(f"{'':<6}uv, {at:6.2f} s after launch: {line}")
    if frame is None:
        tail = text[-1500:].strip()
        status = app.proc.returncode
        print(f"{'':<6}no frame (uv exited with {status}); output ended with:\n{tail}")
    return frame, data_at


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rev", default="HEAD", help="commit to clone (default HEAD)")
    parser.add_argument(
        "--bytecode", action="store_true",
        help="leave PYTHONDONTWRITEBYTECODE unset (default: set it, as in containers and CI)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if shutil.which("uv") is None:
        print("uv is not on PATH")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="tradeterm-first-run-"))
    env = {
        "UV_CACHE_DIR": str(tmp / "uv-cache"),
        "XDG_CACHE_HOME": str(tmp / "xdg-cache"),
        "XDG_DATA_HOME": str(tmp / "xdg-data"),
    }
    if args.bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = ""
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    print(f"rev {args.rev}, PYTHONDONTWRITEBYTECODE={'unset' if args.bytecode else '1'}, "
          f"uv cache {env['UV_CACHE_DIR']} (empty)")
    try:
        first, second = tmp / "clone-1", tmp / "clone-2"
        clone(args.rev, first)
        clone(args.rev, second)
        cold, _ = one_launch(first, env, "1. cold package cache, fresh clone")
        one_launch(first, env, "2. second launch, same clone")
        one_launch(second, env, "3. warm package cache, fresh clone")
        one_launch(second, env, "4. second launch, that clone")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if cold is None:
        print("no first frame on the cold run")
        return 1
    verdict = "within" if cold < BUDGET_COLD_S else "OVER"
    print(f"cold first run: first frame {cold:.2f} s ({verdict} the {BUDGET_COLD_S:.0f} s budget)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
