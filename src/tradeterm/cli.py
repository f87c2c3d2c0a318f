"""Command line: ``tradeterm`` (the workstation), ``tradeterm sim`` (the exchange simulator).

Kept light on purpose: nothing heavy (Textual, ccxt, numpy) is imported until a command has been
chosen, so ``tradeterm --help`` and config errors answer at once.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import sys
from pathlib import Path
from typing import ClassVar, NoReturn

from tradeterm import __version__
from tradeterm.config import ConfigError, Settings, load_settings

log = logging.getLogger("tradeterm")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``tradeterm: <problem> (see tradeterm --help)``, exit 2.

    argparse's default prints the whole usage block above the error; a mistyped flag deserves
    one line that names it and where to look. Subcommands' parsers are of this class too
    (``add_subparsers`` uses the parent's class).
    """

    _argv: ClassVar[list[str]] = []  # what main() parses: an unknown flag is named even when argparse
    # trips first over the word after it (``--symbols BTC/USDT``: "invalid choice 'BTC/USDT'")

    def error(self, message: str) -> NoReturn:
        if unknown := self._unknown_flag():
            message = unknown
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")

    def _flags(self) -> set[str]:
        """Every flag of ``tradeterm`` and its commands."""
        flags = set(self._option_string_actions)
        for sub in _Parser._commands(self).values():
            flags |= _Parser._flags(sub)  # type: ignore[arg-type]
        return flags

    def _commands(self) -> dict[str, argparse.ArgumentParser]:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return dict(action.choices)
        return {}

    def _unknown_flag(self) -> str | None:
        """``unknown flag --symbols (did you mean --symbol?)`` for the first flag not known where
        it stands (the top level's flags before a command; after it, also the command's);
        suggestions are those real flags only."""
        parser: argparse.ArgumentParser = self
        flags = set(self._option_string_actions)
        for word in _Parser._argv:
            if word == "--":
                break
            commands = _Parser._commands(parser)  # type: ignore[arg-type]
            if word in commands:
                parser = commands[word]
                flags |= set(parser._option_string_actions)  # the command's, and those before
                continue
            name = word.split("=", 1)[0]
            if name.startswith("-") and len(name) > 1 and not name[1:2].isdigit() \
                    and name not in flags:
                close = difflib.get_close_matches(name, sorted(flags), n=1, cutoff=0.75)
                hint = f" (did you mean {close[0]}?)" if close else ""
                return f"unknown flag {name}{hint}"
        return None


def _port(text: str) -> int:
    """A TCP port for argparse: 0 (any free one) to 65535."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, not {text!r}")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tradeterm",
        description="A trading workstation in the terminal. Paper trading unless you choose live.",
    )
    parser.add_argument("--version", action="version", version=f"tradeterm {__version__}")
    parser.add_argument("--config", type=Path, help="config file (default: ./config.toml)")
    parser.add_argument(
        "--demo", action="store_true", default=None,
        help="use the built-in simulated market (no network needed)",
    )
    parser.add_argument("--exchange", help="ccxt exchange id, e.g. binance")
    parser.add_argument("--symbol", help="symbol the chart opens on, e.g. ETH/USDT")
    parser.add_argument("--timeframe", help="timeframe the chart opens on, e.g. 5m")
    parser.add_argument("--theme", help="theme name (a file in themes/)")
    parser.add_argument(
        "--replay", type=Path, action="append",
        help="bar replay: drive the simulated market from a parquet of candles (implies --demo; "
        "its own journal beside the file; repeat for several symbols on one clock; "
        "keys p pause, n step one bar, < > speed)",
    )
    parser.add_argument(
        "--from", dest="replay_from", metavar="DATE",
        help="start the replay at this bar (YYYY-MM-DD or an ISO time, UTC); the bars before "
        "it are warm-up history",
    )
    parser.add_argument("--speed", type=float, help="replay speed (1.0 = real time)")
    parser.add_argument("--seed", type=int, help="seed of the simulated market")

    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sim = sub.add_parser("sim", help="run the Binance-compatible exchange simulator")
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    sim.add_argument("--port", type=int, default=8765, help="port (0 = any free port)")
    sim.add_argument("--seed", dest="sim_seed", type=int, default=None, help="market seed")
    sim.add_argument("--replay", dest="sim_replay", type=Path, help="parquet of candles to replay")
    sim.add_argument("--speed", dest="sim_speed", type=float, default=None, help="replay speed")

    check = sub.add_parser(
        "check-strategy",
        help="look for look-ahead (future data) in a strategy: prefix cuts, and every bar where "
        "a signal fires recomputed without the bars after it, must not change it",
    )
    check.add_argument("name", help="strategy name (its `name`, not the file name)")
    check.add_argument(
        "--data", type=Path,
        help="parquet of candles (timestamp_ms or open_time, open, high, low, close, volume); "
        "default: 5,000 generated candles",
    )

    from tradeterm.journal.cli import add_journal_parser  # argparse only; rich loads lazily

    add_journal_parser(sub)

    from tradeterm.backtest.cli import add_backtest_parser  # argparse only
    from tradeterm.backtest.data.cli import add_data_parsers  # argparse only
    from tradeterm.backtest.optimize_cli import add_optimize_parser  # argparse only

    add_data_parsers(sub)
    add_backtest_parser(sub)
    add_optimize_parser(sub)

    from tradeterm.ml.cli import add_ml_parser  # argparse only

    add_ml_parser(sub)

    attach = sub.add_parser(
        "attach", help="open the workstation on the running engine of this data directory",
    )
    attach.add_argument("--read-only", action="store_true",
                        help="watch only: the engine refuses this screen's orders and commands")
    attach.add_argument("--socket", type=Path,
                        help="the engine's socket (default: this journal's; e.g. a socket "
                        "forwarded with ssh -L)")

    from tradeterm.service.cli import add_engine_parser  # argparse only

    add_engine_parser(sub)

    serve = sub.add_parser(
        "serve", help="serve the workstation to a browser (127.0.0.1 unless given a token)",
    )
    serve.add_argument("--host", dest="serve_host", default="127.0.0.1", metavar="HOST",
                       help="address to listen on (default loopback; any other needs a token)")
    serve.add_argument("--port", dest="serve_port", type=_port, default=8000, metavar="PORT",
                       help="port (default 8000; 0 = any free port)")
    serve.add_argument("--token", dest="serve_token", default=None, metavar="TOKEN",
                       help="token a browser must present (better: TRADETERM_SERVE_TOKEN, "
                       "which other users cannot see in ps)")

    run = sub.add_parser("run", help="run the engine without the screen (= engine start)")
    run.add_argument(
        "--headless", action="store_true", required=True,
        help="no screen: print events, stop on Ctrl-C or SIGTERM",
    )
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings with CLI flags on top of env, file and defaults. Raises ConfigError.

    Only what the user typed goes in as an override (``sim`` as a partial section, merged into
    the file's), so a config error blames a flag only when a flag set that key.
    """
    replay = args.replay[0] if args.replay and len(args.replay) == 1 else args.replay
    sim_set = {
        k: v for k, v in {"seed": args.seed, "replay": replay, "speed": args.speed,
                          "replay_from": args.replay_from}.items()
        if v is not None
    }
    overrides: dict[str, object] = {
        "demo": True if args.replay is not None else args.demo,  # a replay is the demo market
        "exchange": args.exchange,
        "timeframe": args.timeframe,
        "theme": args.theme,
        "sim": sim_set or None,
    }
    settings = load_settings(args.config, **overrides)
    if args.symbol:
        symbols = [s for s in settings.symbols if s != args.symbol]
        settings = load_settings(args.config, **overrides, symbols=[args.symbol, *symbols])
    return settings


def _global_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The flags before the command (``--config``, ``--demo``, ...) as the user gave them, for
    ``tradeterm serve`` to pass on to the ``tradeterm`` it serves: any flag added later follows."""
    flags: list[str] = []
    for action in parser._actions:
        if not action.option_strings or action.dest in ("help", "version", "command"):
            continue
        value = getattr(args, action.dest, None)
        if value is None or value is False:
            continue
        flag = max(action.option_strings, key=len)
        flags += [flag] if value is True and action.nargs == 0 else [flag, str(value)]
    return flags


def _setup_logging(settings: Settings, name: str = "tradeterm.log") -> Path | None:
    """Log to a file in the data directory: the terminal belongs to the UI. The file is 0600,
    like the journal (it holds every fill), also when an older run left it 0644. An attached
    screen logs to its own file (``screen.log``): the engine's log stays the engine's."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        from tradeterm.service.logs import log_file

        path = log_file(settings) if name == "tradeterm.log" else settings.data_dir / name
        os.close(os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
        logging.basicConfig(
            filename=path,
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        return path
    except OSError:
        return None


def _run_sim(args: argparse.Namespace, settings: Settings) -> int:
    from tradeterm.sim.cli import run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    seed = args.sim_seed if args.sim_seed is not None else settings.sim.seed
    replay = args.sim_replay if args.sim_replay is not None else settings.sim.replay
    speed = args.sim_speed if args.sim_speed is not None else settings.sim.speed
    from tradeterm.sim.replay import ReplayFileError

    try:
        run(args.host, args.port, seed, replay, speed)
    except KeyboardInterrupt:
        pass
    except ReplayFileError as exc:
        print(f"tradeterm sim: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. the port is taken
        print(f"tradeterm sim: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    return 0


def _check_replay(settings: Settings) -> str | None:
    """A bad replay file is reported before the screen opens, not as an error inside it."""
    if not settings.replaying:
        return None
    from tradeterm.sim.replay import ReplayFileError, check_replay

    try:
        check_replay(settings.sim.replay_files, settings.sim.replay_from_ms)
    except ReplayFileError as exc:
        return str(exc)
    return None


def _check_journal(settings: Settings) -> str | None:
    """A foreign, corrupt, newer or read-only journal (or one that cannot be created) is
    refused, left untouched, before anything starts: the engine would not trade on it."""
    from tradeterm.journal.files import JournalError, preflight
    from tradeterm.journal.lock import engine_holding, refusal

    try:
        preflight(settings.journal_file)
    except JournalError as exc:
        return str(exc)
    if (holder := engine_holding(settings.journal_file)) is not None:
        return refusal(settings.journal_file, holder)  # one engine per journal
    return None


def main(argv: list[str] | None = None) -> int:
    _Parser._argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ConfigError as exc:
        print(f"tradeterm: {exc}", file=sys.stderr)
        return 2
    if args.command == "sim":
        return _run_sim(args, settings)
    if args.command == "run" or (args.command == "engine" and args.engine_action == "start"):
        if problem := _check_replay(settings) or _check_journal(settings):
            print(f"tradeterm: {problem}", file=sys.stderr)
            return 2
        if getattr(args, "detach", False):
            from tradeterm.service.cli import start_detached

            return start_detached(settings, _Parser._argv)
        _setup_logging(settings)
        from tradeterm.service.runner import main as engine_main

        return _done(engine_main(settings), argv)
    if args.command == "engine":
        from tradeterm.service.cli import engine_command

        return engine_command(args, settings)
    if args.command == "journal":
        from tradeterm.backtest.cli import show_stored
        from tradeterm.journal.cli import journal_command

        return journal_command(args, settings, show_backtest=show_stored)
    if args.command in ("download", "data"):
        from tradeterm.backtest.data.cli import data_command

        return data_command(args, settings)
    if args.command == "backtest":
        from tradeterm.backtest.cli import backtest_command

        return backtest_command(args, settings)
    if args.command == "optimize":
        from tradeterm.backtest.optimize_cli import optimize_command

        return optimize_command(args, settings)
    if args.command == "serve":
        from tradeterm.web import serve

        return serve(_global_flags(parser, args), args.serve_host, args.serve_port,
                     args.serve_token)
    if args.command == "ml":
        from tradeterm.backtest.cli import load_candles
        from tradeterm.ml.cli import ml_command

        return ml_command(args, settings, load_candles)
    if args.command == "check-strategy":
        from tradeterm.strategy.check import check_strategy_command

        return check_strategy_command(args.name, args.data, settings)

    if args.command == "attach":
        return _attach(settings, args.socket, "read-only" if args.read_only else "trader", argv)

    if problem := _check_replay(settings):
        print(f"tradeterm: {problem}", file=sys.stderr)
        return 2
    from tradeterm.journal.lock import engine_holding

    if engine_holding(settings.journal_file) is not None:  # an engine runs: attach to it
        return _attach(settings, None, "trader", argv)
    if problem := _check_journal(settings):
        print(f"tradeterm: {problem}", file=sys.stderr)
        return 2
    _setup_logging(settings)
    from tradeterm.ui.app import run_app

    # 1 after a crash of the screen (traceback in the log file)
    return _done(run_app(settings), argv)


def _attach(settings: Settings, socket: Path | None, role: str, argv: list[str] | None) -> int:
    """Open the workstation on a running engine: a handshake first, so that no engine, a
    refusal or another protocol version is one line (exit 2) instead of a screen."""
    import asyncio

    from tradeterm.core.commands import Shutdown
    from tradeterm.service.paths import socket_path
    from tradeterm.wire.remote import AttachError, RemoteEngine

    path = socket or socket_path(settings.journal_file)
    probe = RemoteEngine(path, role="read-only", client="probe")

    async def handshake() -> int:
        welcome = await probe.connect()
        probe.submit(Shutdown())  # a bye: the probe detaches at once
        await probe.aclose()
        return welcome.pid

    try:
        pid = asyncio.run(handshake())
    except AttachError as exc:
        hint = "" if socket else " (start one with `tradeterm engine start`, or run `tradeterm`)"
        print(f"tradeterm: cannot attach: {exc}{hint}", file=sys.stderr)
        return 2
    _setup_logging(settings, "screen.log")
    from tradeterm.ui.app import run_app

    remote = RemoteEngine(path, role=role, symbol=settings.symbols[0],  # type: ignore[arg-type]
                          timeframe=settings.timeframe, trades=settings.feed.trades_kept)
    code = run_app(settings, remote)
    if code == 0:
        print(f"tradeterm: detached; the engine (pid {pid}) goes on: `tradeterm attach` returns "
              "to it, `tradeterm engine stop` stops it", file=sys.stderr)
    return _done(code, argv)


def _done(code: int, argv: list[str] | None) -> int:
    """The workstation or the headless engine has shut down (workers stopped, journal closed):
    as the program (not called by a test), exit now, skipping the interpreter's finalisation,
    which takes 1-2.5 s with ccxt imported (measured) and would push quitting past 3 s."""
    if argv is not None:
        return code
    import logging
    import os

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
