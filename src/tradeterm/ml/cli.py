"""``tradeterm ml train | list | show``.

``train`` reads candles like ``backtest`` does (``--data FILE``, or the download store cut to
``--from``/``--to``; the CLI hands over the backtester's loader, which this layer may not
import), runs the purged walk-forward evaluation, prints the report beside the baselines, fits
the final model on every labelled bar and saves it with its manifest. Exit status: 0 trained,
2 bad arguments or data (one line), 1 the ml extra is missing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

CandleLoader = Callable[..., Any]
"""``load(settings, timeframe, symbol=, data=, first_day=, last_day=) -> pl.DataFrame``; raises
an exception whose message is one line for the user."""


def add_ml_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``ml`` and its actions (argparse only: nothing heavy)."""
    p = subparsers.add_parser("ml", help="train, list and show learned signal models")
    actions = p.add_subparsers(dest="ml_action", metavar="ACTION", required=True)
    t = actions.add_parser("train", help="walk-forward train a model and save it")
    t.add_argument("--symbol", dest="ml_symbol",
                   metavar="SYMBOL", default="BTC/USDT", help="e.g. BTC/USDT")
    t.add_argument("--timeframe", dest="ml_timeframe",
                   metavar="TF", default="5m", help="candle timeframe")
    t.add_argument("--data", dest="ml_data",
                   metavar="FILE", type=Path, help="parquet of candles instead of the store")
    t.add_argument("--from", dest="ml_from", metavar="DAY", help="first day, YYYY-MM-DD (UTC)")
    t.add_argument("--to", dest="ml_to", metavar="DAY", help="last day, YYYY-MM-DD (UTC, included)")
    t.add_argument("--model", dest="ml_model",
                   metavar="KIND", default="lgbm", help="lgbm (default), hgb, logistic")
    t.add_argument("--features", dest="ml_features", metavar="SET", default="default",
                   help="feature set: default (the 16) or scale_free")
    t.add_argument("--shifts", dest="ml_shifts",
                   metavar="N,N", default="", help="shifted candles, e.g. 1,2")
    t.add_argument("--higher", dest="ml_higher", metavar="TF,TF", default="",
                   help="higher timeframes for causal copies of the features, e.g. 1h,4h")
    t.add_argument("--horizon", dest="ml_horizon",
                   metavar="BARS", type=int, default=5, help="label horizon in bars")
    t.add_argument("--threshold", dest="ml_threshold",
                   metavar="FRACTION", type=float, default=0.005,
                   help="up/down threshold as a fraction (default 0.005 = 0.5 %%)")
    t.add_argument("--atr-mult", dest="ml_atr_mult", metavar="K", type=float, default=None,
                   help="threshold in ATRs instead of a fraction")
    t.add_argument("--splits", dest="ml_splits",
                   metavar="N", type=int, default=5, help="walk-forward windows")
    t.add_argument("--embargo", dest="ml_embargo", metavar="BARS", type=int, default=0,
                   help="extra bars dropped between training and test (beyond the horizon)")
    t.add_argument("--train-bars", dest="ml_train_bars", metavar="BARS", type=int, default=None,
                   help="sliding training window in bars (default: expanding)")
    t.add_argument("--seed", dest="ml_seed",
                   metavar="N", type=int, default=7, help="seed (same seed, same model)")
    t.add_argument("--threads", dest="ml_threads",
                   metavar="N", type=int, default=1, help="training threads")
    t.add_argument("--name", dest="ml_name",
                   metavar="NAME", default=None, help="model name (default: generated)")
    actions.add_parser("list", help="the saved models, newest first")
    s = actions.add_parser("show", help="a saved model's manifest and report")
    s.add_argument("name", help="model name (see tradeterm ml list)")
    return p


class UsageError(Exception):
    """Bad arguments or unusable data; the message is for the user."""


def ml_command(args: argparse.Namespace, settings: Any, load_candles: CandleLoader,
               console: Console | None = None) -> int:
    from rich.console import Console

    from tradeterm.ml.models import MissingExtra
    from tradeterm.ml.store import ModelStoreError, models_dir

    out = console or Console()
    root = models_dir(settings.data_dir)
    try:
        if args.ml_action == "list":
            return _list(root, out)
        if args.ml_action == "show":
            return _show(root, args.name, out)
        return _train(args, settings, load_candles, root, out)
    except MissingExtra as exc:
        out.print(f"[bold red]tradeterm ml:[/] {exc}", soft_wrap=True)
        return 1
    except (UsageError, ModelStoreError, ValueError) as exc:
        out.print(f"[bold red]tradeterm ml:[/] {exc}", soft_wrap=True)
        return 2


def _ints(text: str, flag: str) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise UsageError(f"{flag} expects integers like 1,2, got {text!r}") from None


def _config(args: argparse.Namespace) -> Any:
    from tradeterm.core.models import TIMEFRAME_MS
    from tradeterm.ml.features import FeatureSpec
    from tradeterm.ml.labels import LabelSpec
    from tradeterm.ml.models import MODEL_KINDS
    from tradeterm.ml.train import TrainConfig

    if args.ml_timeframe not in TIMEFRAME_MS:
        raise UsageError(f"unknown timeframe {args.ml_timeframe!r}; expected one of "
                         f"{', '.join(TIMEFRAME_MS)}")
    if args.ml_model not in MODEL_KINDS:
        raise UsageError(f"--model: unknown model {args.ml_model!r}; expected one of "
                         f"{', '.join(MODEL_KINDS)}")
    if args.ml_threads < 1:
        raise UsageError(f"--threads expects N >= 1, got {args.ml_threads}")
    higher = tuple(t.strip() for t in args.ml_higher.split(",") if t.strip())
    features = FeatureSpec(args.ml_features, args.ml_timeframe, _ints(args.ml_shifts, "--shifts"),
                           higher).resolved()
    labels = LabelSpec(args.ml_horizon, args.ml_threshold, args.ml_atr_mult).check()
    return TrainConfig(model=args.ml_model, features=features, labels=labels,
                       n_splits=args.ml_splits, embargo=args.ml_embargo,
                       train_bars=args.ml_train_bars, seed=args.ml_seed, threads=args.ml_threads)


def _train(args: argparse.Namespace, settings: Any, load_candles: CandleLoader, root: Path,
           out: Console) -> int:
    from tradeterm.ml.store import code_version, default_name, save
    from tradeterm.ml.train import train_final, walk_forward

    config = _config(args)
    try:
        frame = load_candles(settings, args.ml_timeframe, symbol=args.ml_symbol, data=args.ml_data,
                             first_day=args.ml_from, last_day=args.ml_to)
    except Exception as exc:  # the loader's errors are one line for the user
        raise UsageError(str(exc)) from None
    started = time.perf_counter()
    result = walk_forward(frame, config)
    model = train_final(frame, config)
    seconds = time.perf_counter() - started
    now_ms = int(time.time() * 1000)
    name = args.ml_name or default_name(args.ml_symbol, args.ml_timeframe, config.model, now_ms)
    times = frame.get_column("open_time")
    manifest = {
        "symbol": args.ml_symbol, "timeframe": args.ml_timeframe, "model": config.model,
        "features": list(model.features), "config": config.as_dict(),
        "data": {"from_ms": int(times[0]), "to_ms": int(times[-1]), "bars": frame.height,
                 "source": str(args.ml_data) if args.ml_data else "store"},
        "metrics": result.report, "code_version": code_version(), "trained_at_ms": now_ms,
        "train_seconds": round(seconds, 2),
    }  # fmt: skip
    saved = save(root, name, model, manifest)
    print_report(saved.manifest, out)
    out.print(f"saved model {name} in {saved.path} ({seconds:.1f} s)")
    return 0


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _num(value: float | None, places: int = 3) -> str:
    return "-" if value is None else f"{value:.{places}f}"


def print_report(manifest: dict[str, Any], out: Console) -> None:
    """The walk-forward report of a manifest: the model beside the baselines."""
    from rich.table import Table

    from tradeterm.ml.labels import CLASS_NAMES

    m = manifest["metrics"]
    data = manifest["data"]
    out.print(f"{manifest['name']}: {manifest['model']} on {manifest['symbol']} "
              f"{manifest['timeframe']}, {data['bars']} bars {_day(data['from_ms'])} .. "
              f"{_day(data['to_ms'])} UTC; {len(m['windows'])} walk-forward windows, "
              f"{m['model']['bars']} test bars")
    table = Table(title="out-of-sample, all windows pooled")
    table.add_column("")
    for head in ("accuracy", "log loss", *(f"{c} prec/rec" for c in CLASS_NAMES)):
        table.add_column(head, justify="right")
    for who in ("model", "majority", "persistence"):
        s = m[who]
        pr = [f"{_num(s['per_class'][c]['precision'], 2)}/{_num(s['per_class'][c]['recall'], 2)}"
              for c in CLASS_NAMES]
        table.add_row(who, _num(s["accuracy"]), _num(s["log_loss"]), *pr)
    out.print(table)
    confusion = Table(title="model confusion (rows: true, columns: predicted)")
    confusion.add_column("")
    for c in CLASS_NAMES:
        confusion.add_column(c, justify="right")
    for c, row in zip(CLASS_NAMES, m["model"]["confusion"], strict=True):
        confusion.add_row(c, *(str(v) for v in row))
    out.print(confusion)
    windows = Table(title="windows")
    for head in ("trained on", "tested on", "accuracy"):
        windows.add_column(head)
    for w in m["windows"]:
        trained = f"{_day(w['train_from'])} .. {_day(w['train_to'])}" if w["train_from"] else "-"
        windows.add_row(trained, f"{_day(w['test_from'])} .. {_day(w['test_to'])}",
                        _num(w["accuracy"]))
    out.print(windows)
    if m["importance"]:
        top = list(m["importance"].items())[:8]
        out.print("importance: " + ", ".join(f"{k} {v:.1%}" for k, v in top))


def _list(root: Path, out: Console) -> int:
    from rich.table import Table

    from tradeterm.ml.store import list_models

    models = list_models(root)
    if not models:
        out.print(f"no models in {root} (tradeterm ml train ...)")
        return 0
    heads = ("name", "symbol", "tf", "model", "trained (UTC)", "bars", "accuracy", "majority",
             "log loss")
    rows = []
    for s in models:
        m = s.manifest
        metrics = m.get("metrics", {})
        rows.append((s.name, m.get("symbol", "?"), m.get("timeframe", "?"), m.get("model", "?"),
                     _day(m.get("trained_at_ms", 0)), str(m.get("data", {}).get("bars", "?")),
                     _num(metrics.get("model", {}).get("accuracy")),
                     _num(metrics.get("majority", {}).get("accuracy")),
                     _num(metrics.get("model", {}).get("log_loss"))))
    if not out.is_terminal:  # piped: plain columns, never cut
        for row in (heads, *rows):
            out.print("\t".join(row), soft_wrap=True, highlight=False)
        return 0
    table = Table()
    for head in heads:
        table.add_column(head, no_wrap=True)
    for row in rows:
        table.add_row(*row)
    out.print(table)
    return 0


def _show(root: Path, name: str, out: Console) -> int:
    from tradeterm.ml.store import read_manifest

    m = read_manifest(root, name).manifest
    out.print(f"trained {_day(m['trained_at_ms'])} UTC by tradeterm {m['code_version']}; "
              f"sha256 {m['sha256'][:16]}...; {m.get('train_seconds', '?')} s")
    out.print("features: " + ", ".join(m["features"]))
    cfg = m["config"]
    out.print(f"labels: {cfg['labels']}; splits {cfg['n_splits']}, embargo {cfg['embargo']}, "
              f"train bars {cfg['train_bars'] or 'expanding'}, seed {cfg['seed']}")
    print_report(m, out)
    return 0
