"""``tradeterm engine start | status | stop | logs | install-service``.

Kept light like ``tradeterm.cli``: argparse at import, the rest inside the commands. The
foreground ``engine start`` (and ``run --headless``) is started by ``tradeterm.cli`` itself,
after the same checks as the workstation (replay file, journal, one engine per journal);
``--detach`` comes here after those checks.

Exit statuses follow LSB/systemctl where they apply: ``status`` is 0 while an engine runs, 3
when none does; bad input is 2 (one line).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tradeterm.config import Settings
from tradeterm.service.paths import socket_path

NOT_RUNNING = 3  # LSB "program is not running"
DEFAULT_LINES = 40


def _lines(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of lines, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more lines, got {n}")
    return n


def _start_flags(parser: argparse.ArgumentParser) -> None:
    """``--demo`` and ``--replay`` after ``engine start`` too; SUPPRESS keeps the top-level
    flag's value when only that one is given (a subparser default would overwrite it)."""
    parser.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                        help="the built-in simulated market (no network needed)")
    parser.add_argument("--replay", type=Path, action="append", default=argparse.SUPPRESS,
                        metavar="FILE", help="bar replay of a parquet of candles (implies "
                        "--demo; repeat for several symbols on one clock)")
    parser.add_argument("--from", dest="replay_from", default=argparse.SUPPRESS, metavar="DATE",
                        help="start the replay at this bar (the bars before are history)")


def add_engine_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``engine ACTION ...`` to ``tradeterm``'s parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "engine", help="the engine as a service: start, status, stop, logs, install-service"
    )
    actions = parser.add_subparsers(dest="engine_action", metavar="ACTION", required=True)
    start = actions.add_parser(
        "start", help="run the engine without a screen (foreground; --detach: in the background)"
    )
    _start_flags(start)
    start.add_argument("--detach", action="store_true",
                       help="run it in a new session, logging to the log file; print its pid")
    actions.add_parser("status", help="is an engine running on this journal (exit 0) or not (3)")
    stop = actions.add_parser("stop", help="stop the running engine (asks first)")
    stop.add_argument("--yes", action="store_true",
                      help="do not ask (needed when not at a terminal)")
    logs = actions.add_parser("logs", help="print the engine's log (-f follows it)")
    logs.add_argument("-n", "--lines", type=_lines, default=DEFAULT_LINES, metavar="N",
                      help=f"the last N lines (default {DEFAULT_LINES})")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    install = actions.add_parser(
        "install-service", help="write a systemd user unit that runs `tradeterm engine start`"
    )
    _start_flags(install)
    install.add_argument("--force", action="store_true", help="replace a different unit")
    return parser


def engine_command(args: argparse.Namespace, settings: Settings) -> int:
    action: str = args.engine_action
    if action == "status":
        return status(settings)
    if action == "stop":
        return stop(settings, yes=args.yes)
    if action == "logs":
        return logs(settings, args.lines, follow=args.follow)
    if action == "install-service":
        return install_service(args, settings)
    raise AssertionError(f"engine {action} is started by tradeterm.cli")


def _err(text: str) -> None:
    print(f"tradeterm: {text}", file=sys.stderr, flush=True)


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    s = max(0, int(seconds))
    d, s = divmod(s, 86_400)
    h, s = divmod(s, 3_600)
    m, s = divmod(s, 60)
    if d:
        return f"{d}d {h}h {m:02d}m"
    if h:
        return f"{h}h {m:02d}m"
    return f"{m}m {s:02d}s"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


# -- start --detach ------------------------------------------------------------------------


def start_detached(settings: Settings, argv: Sequence[str]) -> int:
    """``engine start --detach`` (after the CLI's checks); see ``service/detach.py``."""
    from tradeterm.service.detach import START_WAIT_S
    from tradeterm.service.detach import start_detached as spawn
    from tradeterm.service.logs import log_file

    log, journal = log_file(settings), settings.journal_file
    try:
        started = spawn(argv, journal, log)
    except OSError as exc:
        _err(f"cannot start the engine: {exc.strerror or exc} ({log})")
        return 1
    if started.holding:
        print(f"tradeterm engine started: pid {started.pid}, log {log}; "
              "`tradeterm attach` opens the workstation on it, `tradeterm engine status` "
              "shows it, `tradeterm engine stop` stops it", flush=True)
        return 0
    for line in started.log_lines:
        print(line, file=sys.stderr)
    if started.exit_code is None:
        _err(f"the engine (pid {started.pid}) has not taken its journal after "
             f"{START_WAIT_S:.0f} s; it is still starting: `tradeterm engine logs -f`")
        return 1
    _err(f"the engine failed to start (exit status {started.exit_code}); its log: {log}")
    return started.exit_code or 1


# -- status --------------------------------------------------------------------------------


def status(settings: Settings) -> int:
    import time

    from tradeterm.service.control import running
    from tradeterm.service.logs import last_status, log_file

    journal, log = settings.journal_file, log_file(settings)
    engine = running(journal)
    last = last_status(log)
    if engine is None:
        print(f"no engine is running on {journal} (log {log})")
        if last:
            print(f"  last status before it stopped: {last}")
        return NOT_RUNNING
    holder = engine.holder
    if engine.verified:
        print(f"engine running: pid {holder.pid}")
    else:
        who = f"pid {holder.pid}" if holder.pid is not None else "no pid"
        print(f"an engine holds {journal}, but its lock file names {who}, which does not hold "
              "the lock (a stale or edited file): `tradeterm engine stop` will not signal it")
    if holder.started_ms is not None:
        up = _duration(time.time() - holder.started_ms / 1000)
        print(f"  started  {_utc(holder.started_ms)} (up {up})")
    if holder.command:
        print(f"  command  {holder.command}")
    print(f"  journal  {journal}")
    print(f"  log      {log}")
    sock = socket_path(journal)
    print(f"  socket   {sock}  (`tradeterm attach`; over ssh: docs/remote.md)")
    live = live_status(sock)
    if live is None:
        print("  live     the engine's socket did not answer (see its log)")
    else:
        from tradeterm.core.display import DEFAULT_POLICY, fmt_quote

        policy = DEFAULT_POLICY.with_overrides(settings.display.quote_decimals)
        equity = (f"{fmt_quote(live['equity'], live['quote'], policy=policy)} {live['quote']}"
                  if live.get("equity") else "unknown")
        print(f"  live     {live['phase']}, {live['mode']}, trading {live['trading_state']}, "
              f"equity {equity}, {_plural(live['positions'], 'position')}, "
              f"{_plural(live['orders'], 'working order')}, "
              f"{_plural(live['clients'] - 1, 'screen')} attached")
    print(f"  last     {last or 'no status line yet'}")
    return 0


def live_status(sock: Path, timeout_s: float = 3.0) -> dict[str, Any] | None:
    """The running engine's own figures over its socket (a read-only client); None when it
    does not answer."""
    import asyncio

    from tradeterm.core.commands import Shutdown
    from tradeterm.wire.remote import AttachError, RemoteEngine, RequestFailed

    async def ask() -> dict[str, Any]:
        client = RemoteEngine(sock, role="read-only", client="engine status")
        await asyncio.wait_for(client.connect(), timeout_s)
        reading = asyncio.create_task(client.run())
        try:
            answer: dict[str, Any] = await client.ask("status", timeout=timeout_s)
            return answer
        finally:
            client.submit(Shutdown())  # detach
            await asyncio.wait_for(reading, timeout_s)

    try:
        return asyncio.run(ask())
    except (AttachError, RequestFailed, TimeoutError, OSError):
        return None


# -- stop ----------------------------------------------------------------------------------


def open_counts(journal: Path) -> tuple[int, int] | None:
    """Open positions and working orders as the journal last committed them (read-only)."""
    from tradeterm.journal.files import JournalError
    from tradeterm.journal.reader import JournalReader

    try:
        with JournalReader(journal) as reader:
            state = reader.load_state()
    except (JournalError, OSError):
        return None
    return len(state.positions), len(state.orders)


def stop(settings: Settings, *, yes: bool, wait_s: float | None = None) -> int:
    from tradeterm.journal.lock import lock_path
    from tradeterm.service.control import STOP_WAIT_S, running, terminate, wait_released

    journal = settings.journal_file
    engine = running(journal)
    if engine is None:
        print(f"no engine is running on {journal}: nothing to stop")
        return 0
    pid = engine.pid
    if pid is None or not engine.verified:
        _err(f"{lock_path(journal)} names pid {pid}, which does not hold the engine lock: "
             "not signalling it (another process holds the journal; find it with "
             f"`fuser {lock_path(journal)}`)")
        return 1
    counts = open_counts(journal)
    if counts is None:
        exposure = "its open positions and orders could not be read from the journal"
    else:
        positions, orders = counts
        exposure = (f"{_plural(positions, 'open position')} and "
                    f"{_plural(orders, 'working order')}")
    what = f"pid {pid}" + (f" ({engine.holder.command})" if engine.holder.command else "")
    if not yes:
        if not sys.stdin.isatty():
            _err(f"stopping the engine {what} with {exposure} needs confirmation: "
                 "run it at a terminal, or add --yes")
            return 2
        print(f"The engine {what} has {exposure}. Once it stops, nothing watches them: "
              "stops and targets do not fill, strategies do not run.")
        try:
            answer = input("Stop it? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("not stopped")
            return 1
    try:
        terminate(engine)
    except ProcessLookupError:
        pass  # it ended meanwhile
    except (PermissionError, ValueError) as exc:
        _err(f"cannot signal pid {pid}: {exc}")
        return 1
    limit = STOP_WAIT_S if wait_s is None else wait_s
    print(f"sent SIGTERM to the engine (pid {pid}); waiting for it to close its journal",
          flush=True)
    if not wait_released(journal, limit):
        _err(f"pid {pid} still holds {journal} after {limit:.0f} s; it may still be closing "
             f"(`tradeterm engine logs`); `kill -9 {pid}` ends it at once (the journal "
             "survives that)")
        return 1
    print(f"engine stopped (pid {pid}); {exposure} stay in the journal for the next start")
    return 0


# -- logs ----------------------------------------------------------------------------------


def logs(settings: Settings, lines: int, *, follow: bool) -> int:
    from tradeterm.service.logs import follow as follow_log
    from tradeterm.service.logs import log_file, tail

    path = log_file(settings)
    if not path.is_file():
        _err(f"no engine log yet: {path}")
        return 1
    try:
        if follow:
            follow_log(path, lines)
        else:
            for line in tail(path, lines):
                print(line)
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        _err(f"{path}: cannot read the log: {exc.strerror or exc}")
        return 1
    return 0


# -- install-service -----------------------------------------------------------------------


def service_command(args: argparse.Namespace, settings: Settings) -> list[str]:
    """The ExecStart argv: this interpreter, absolute paths, the config flags the user gave."""
    from tradeterm.config import default_config_path

    config = args.config if args.config is not None else default_config_path()
    words = [sys.executable, "-m", "tradeterm"]
    if config.is_file() or args.config is not None:
        words += ["--config", str(config.resolve())]
    if getattr(args, "demo", None):
        words.append("--demo")
    if getattr(args, "replay", None) is not None:
        words += ["--replay", str(Path(args.replay).resolve())]
    for flag, value in (("--exchange", args.exchange), ("--symbol", args.symbol),
                        ("--timeframe", args.timeframe), ("--speed", args.speed),
                        ("--seed", args.seed)):
        if value is not None:
            words += [flag, str(value)]
    return [*words, "engine", "start"]


def _pinned_environment(settings: Settings) -> dict[str, str]:
    """What the user manager would not know: the data directory when it came from the shell
    (XDG_DATA_HOME or TRADETERM_DATA_DIR), the journal when the shell chose it. Never
    secrets."""
    import os

    from tradeterm.config import default_data_dir

    env: dict[str, str] = {}
    if "TRADETERM_DATA_DIR" in os.environ or settings.data_dir == default_data_dir():
        env["TRADETERM_DATA_DIR"] = str(settings.data_dir.resolve())
    if "TRADETERM_JOURNAL_PATH" in os.environ and settings.journal_path is not None:
        env["TRADETERM_JOURNAL_PATH"] = str(settings.journal_path.resolve())
    return env


def install_service(args: argparse.Namespace, settings: Settings) -> int:
    from tradeterm.service.unit import env_file, render_unit, unit_path, write_unit

    path = unit_path()
    text = render_unit(service_command(args, settings), working_dir=Path.cwd().resolve(),
                       environment=_pinned_environment(settings), env_path=env_file())
    try:
        result = write_unit(text, path, force=args.force)
    except OSError as exc:
        _err(f"{path}: cannot write the unit: {exc.strerror or exc}")
        return 1
    if result == "exists":
        _err(f"{path} exists and differs from this one: `--force` replaces it "
             "(run `systemctl --user daemon-reload` afterwards)")
        return 1
    said = "unchanged" if result == "unchanged" else "wrote"
    print(f"{said} {path}\n"
          "Enable it (starts now and at every boot):\n"
          "  systemctl --user daemon-reload\n"
          "  systemctl --user enable --now tradeterm-engine\n"
          "  loginctl enable-linger $USER    # keep it running after you log out\n"
          f"API keys, if any: KEY=value lines in {env_file()} (chmod 600), never in the unit.\n"
          "Then: `tradeterm engine status`, `tradeterm engine logs -f`, "
          "`systemctl --user stop tradeterm-engine` (or `tradeterm engine stop`)")
    return 0
