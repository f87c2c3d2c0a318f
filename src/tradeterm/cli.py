"""Command line: ``tradeterm`` (the workstation), ``tradeterm sim`` (the exchange simulator).

Kept light on purpose: nothing heavy (Textual, ccxt, numpy) is imported until a command has been
chosen, so ``tradeterm --help`` and config errors answer at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tradeterm import __version__
from tradeterm.config import ConfigError, Settings, load_settings

log = logging.getLogger("tradeterm")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
        "--replay", type=Path,
        help="bar replay: drive the simulated market from a parquet of candles (implies --demo; "
        "keys p pause, n step one bar, < > speed)",
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
        help="look for look-ahead (future data) in a strategy: prefix cuts must not change it",
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

    run = sub.add_parser("run", help="run the engine (feed, strategies) without the screen")
    run.add_argument(
        "--headless", action="store_true", required=True,
        help="no screen: print events, stop on Ctrl-C or SIGTERM",
    )
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings with CLI flags on top of env, file and defaults. Raises ConfigError."""
    sim_overrides = {
        "seed": args.seed, "replay": args.replay, "speed": args.speed,
    }
    overrides: dict[str, object] = {
        "demo": True if args.replay is not None else args.demo,  # a replay is the demo market
        "exchange": args.exchange,
        "timeframe": args.timeframe,
        "theme": args.theme,
    }
    settings = load_settings(args.config, **overrides)
    sim_set = {k: v for k, v in sim_overrides.items() if v is not None}
    if args.symbol or sim_set:
        data = settings.model_dump()
        if args.symbol:
            symbols = [s for s in settings.symbols if s != args.symbol]
            data["symbols"] = [args.symbol, *symbols]
        data["sim"].update(sim_set)
        settings = load_settings(args.config, **{**overrides, **data})
    return settings


def _setup_logging(settings: Settings) -> Path | None:
    """Log to a file in the data directory: the terminal belongs to the UI."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path = settings.data_dir / "tradeterm.log"
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
    if not (settings.demo and settings.sim.replay):
        return None
    from tradeterm.sim.replay import ReplayFileError, load_candles

    try:
        load_candles(settings.sim.replay)
    except ReplayFileError as exc:
        return str(exc)
    return None


def _check_journal(settings: Settings) -> str | None:
    """A foreign or corrupt journal is refused (and left untouched) before anything starts:
    the engine would not trade on it."""
    path = settings.journal_file
    if not path.exists():
        return None
    from tradeterm.journal.files import JournalError, inspect

    try:
        inspect(path, deep=True)
    except JournalError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ConfigError as exc:
        print(f"tradeterm: {exc}", file=sys.stderr)
        return 2
    if args.command == "sim":
        return _run_sim(args, settings)
    if args.command == "run":
        if problem := _check_replay(settings) or _check_journal(settings):
            print(f"tradeterm: {problem}", file=sys.stderr)
            return 2
        _setup_logging(settings)
        from tradeterm.headless import main as headless_main

        return headless_main(settings)
    if args.command == "journal":
        from tradeterm.journal.cli import journal_command

        return journal_command(args, settings)
    if args.command in ("download", "data"):
        from tradeterm.backtest.data.cli import data_command

        return data_command(args, settings)
    if args.command == "backtest":
        from tradeterm.backtest.cli import backtest_command

        return backtest_command(args, settings)
    if args.command == "optimize":
        from tradeterm.backtest.optimize_cli import optimize_command

        return optimize_command(args, settings)
    if args.command == "check-strategy":
        from tradeterm.strategy.check import check_strategy_command

        return check_strategy_command(args.name, args.data, settings)

    if problem := _check_replay(settings) or _check_journal(settings):
        print(f"tradeterm: {problem}", file=sys.stderr)
        return 2
    _setup_logging(settings)
    from tradeterm.ui.app import run_app

    return run_app(settings)  # 1 after a crash of the screen (traceback in the log file)


if __name__ == "__main__":
    sys.exit(main())
