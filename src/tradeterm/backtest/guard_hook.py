"""The look-ahead guard before ``tradeterm backtest`` and ``tradeterm optimize`` show results.

A backtest of a strategy that sees the future reports trades it could never have made live, so
both commands run the guard (:mod:`tradeterm.strategy.guard`) on the very candles they use,
before anything else is computed: ``backtest`` with its ``--param`` values, ``optimize`` with the
strategy's defaults (a peek written into the code shows at any parameters). A caught strategy is
refused with one line (the bar(s) and what changed) and exit status 2; ``--no-guard`` skips the
guard and the output says so first. ``backtest`` calls :func:`guard_strategy` once its inputs
are validated (and prints a pass); ``optimize`` calls :func:`guard_before` at its start, which
loads the inputs itself and prints only a refusal or the skip. The verdict is cached by the
strategy file's hash, its parameters and the candles, so a second run on the same data costs
nothing.

Anything the guard cannot get to (an unknown strategy, bad parameters, no candles) is left to
the command itself, which reports it in its own words.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

NO_GUARD_HELP = ("skip the look-ahead guard (results of a strategy that sees the future are "
                 "then possible; the output says so)")


def guard_before(args: argparse.Namespace, settings: Any, out: Console, prefix: str,
                 command: str) -> int | None:
    """The guard at the start of ``command`` (whose options carry ``prefix``: ``opt``), on the
    inputs loaded as the command will load them; 2 if refused (the line is printed), None to go
    on. A pass prints nothing here (a bad input found later must stay one line)."""
    skip = bool(getattr(args, f"{prefix}_no_guard", False))
    if skip:
        guard_strategy(None, None, None, settings, out, skip=True)
        return None
    for file, strategy, candles in _inputs(args, settings, prefix) or ():
        refused = guard_strategy(file, strategy, candles, settings, out, skip=False,
                                 announce=False)
        if refused is not None:
            from rich.markup import escape

            out.print(f"[bold red]tradeterm {command}:[/] {escape(refused)}", soft_wrap=True)
            return 2
    return None


def guard_strategy(file: Any, strategy: Any, candles: Any, settings: Any, out: Console, *,
                   skip: bool, announce: bool = True) -> str | None:
    """Run the guard on ``strategy`` and ``candles``; the refusal (one line, for the command's
    own error prefix) or None. ``skip`` (``--no-guard``) prints that it was skipped; a pass is
    printed when ``announce``. A strategy that raises on the candles is left to the run."""
    if skip:
        out.print("[bold yellow]look-ahead guard: SKIPPED (--no-guard)[/]: these results were "
                  "not checked for look-ahead and may use bars the strategy could not have seen",
                  soft_wrap=True)
        return None
    from tradeterm.strategy.check import MIN_CUTS, guard_cache_dir
    from tradeterm.strategy.guard import cached_guard

    cuts = max(settings.strategies.lookahead_cuts, MIN_CUTS)
    try:
        verdict = cached_guard(file, strategy, candles, cuts=cuts,
                               cache_dir=guard_cache_dir(settings))
    except Exception:  # noqa: BLE001 - the strategy fails on these candles: the run says how
        return None
    if verdict.ok:
        if announce:
            cost = "cached" if verdict.cached else f"{verdict.seconds:.1f} s"
            out.print(f"look-ahead guard: ok ({verdict.fired} signal bars rechecked, "
                      f"{verdict.cuts} prefix cuts; {cost})")
        return None
    return (f"refused: {strategy.name} looks ahead {verdict.line} (--no-guard runs it "
            "anyway)")


def _inputs(args: argparse.Namespace, settings: Any,
            prefix: str) -> list[tuple[Any, Any, Any]] | None:
    """The strategy file, an instance and the candles of every market the command will run on
    (``optimize`` may be a matrix of symbols and timeframes), loaded as the command loads them."""
    from tradeterm.backtest.cli import UsageError, _params, load_candles
    from tradeterm.backtest.optimize_cli import split_list
    from tradeterm.core.models import TIMEFRAME_MS
    from tradeterm.strategy.loader import load_directory

    loaded = load_directory(settings.strategies.dir).strategies.get(args.strategy)
    if loaded is None:
        return None
    try:
        params = _params(getattr(args, f"{prefix}_params", [])) if prefix == "bt" else {}
        strategy = loaded.cls(params)
        if prefix == "opt":
            symbols = split_list(args.opt_symbols) or ["BTC/USDT"]
            timeframes = split_list(args.opt_timeframes) or [strategy.timeframe]
        else:
            symbols = [getattr(args, f"{prefix}_symbol")]
            timeframes = [getattr(args, f"{prefix}_timeframe", None) or strategy.timeframe]
        found = []
        for symbol in symbols:
            for timeframe in timeframes:
                if timeframe not in TIMEFRAME_MS:
                    return None
                candles = load_candles(
                    settings, timeframe, symbol=symbol, data=getattr(args, f"{prefix}_data"),
                    first_day=getattr(args, f"{prefix}_from"),
                    last_day=getattr(args, f"{prefix}_to"),
                )
                found.append((loaded.file, strategy, candles))
    except (UsageError, ValueError):  # pydantic's ValidationError is a ValueError
        return None
    return found
