"""Learned signals: training time on ~130k 1m bars and inference time at a bar close.

    uv run --extra test --extra ml python benchmarks/ml.py            # timings (budgets below)
    uv run --extra test --extra ml python benchmarks/ml.py --table    # walk-forward results table

Budgets (issue 14): training on 130k 1m bars under a minute on 2 cores; inference at a bar
close under 5 ms. Uses the real BTC/USDT 1m candles of ``shared/data`` (2025-05-20 .. 08-18,
130,708 bars) where that folder exists beside the repository (or above it), else generated
candles of the same length. Times are the best (training) or the median (inference) of runs on
a machine whose load the script prints, since other work shares it.

- **train (final model)**: features, labels and the fit plus calibration of the model that
  ``tradeterm ml train`` saves, on every bar; **walk-forward**: the five purged windows of the
  report before it (each fitted on the bars before its window).
- **inference**: what the ``ml_signal`` strategy runs at a bar close with a saved model: its
  whole ``evaluate`` on the live window (1,000 closed bars: ATR, features, calibrated
  probabilities of every bar, signals, the explanation of an entry), and the bare model call on
  the newest bar's features.

``--table`` prints the Markdown table of docs/ml.md: out-of-sample accuracy and log loss of
each model beside the majority and persistence baselines on each shared candle file.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "strategies"))


def shared_data() -> Path | None:
    for parent in ROOT.parents:
        folder = parent / "shared" / "data"
        if folder.is_dir():
            return folder
    return None


def candles(name: str) -> tuple[pl.DataFrame, str]:
    from tradeterm.indicators.candle_file import read_candle_file
    from tradeterm.indicators.frame import synthetic_candles

    folder = shared_data()
    if folder and (folder / name).is_file():
        return read_candle_file(folder / name), name
    return synthetic_candles(130_708, seed=1), "generated (no shared/data here)"


def best(fn, runs: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def timings(runs: int, train: bool = True) -> None:
    from ml_signal import MlSignal

    from tradeterm.ml.features import FeatureSpec
    from tradeterm.ml.labels import LabelSpec
    from tradeterm.ml import predict
    from tradeterm.ml.predict import feature_matrix
    from tradeterm.ml.store import save
    from tradeterm.ml.train import TrainConfig, train_final, walk_forward

    frame, source = candles("binance_spot_BTCUSDT_1m_2025-05-20_2025-08-18_filim.parquet")
    print(f"data: {source}, {frame.height:,} bars; cpus {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    for kind in ("lgbm", "logistic") if train else ():
        for threads in (1, 2):
            config = TrainConfig(model=kind, features=FeatureSpec("default", "1m"),
                                 labels=LabelSpec(5, 0.005), threads=threads)
            final = best(lambda c=config: train_final(frame, c), runs)
            print(f"  {kind:8s} threads {threads}: train (final model) {final:6.1f} s", flush=True)
        walk = best(lambda c=config, k=kind: walk_forward(frame, TrainConfig(
            model=k, features=c.features, labels=c.labels, threads=1)), 1)
        print(f"  {kind:8s} threads 1: walk-forward (5 windows) {walk:6.1f} s   [budget: train < 60 s]")

    config = TrainConfig(model="lgbm", features=FeatureSpec("default", "1m"), labels=LabelSpec(5, 0.002))
    model = train_final(frame.head(100_000), config)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        save(Path(tmp), "bench", model, {"trained_at_ms": int(time.time() * 1000),
                                         "config": config.as_dict(), "timeframe": "1m"})
        closes = range(100_000, 100_000 + 300)
        windows = [frame.slice(end - 1000, 1000) for end in closes]
        results = {}
        for label, params in (("min_confidence 0.5, explained", {}),
                              ("min_confidence 0.5, no explanation", {"explain": False}),
                              ("min_confidence 0.4, explained", {"min_confidence": 0.4})):
            predict._memo.clear()  # each case starts as a worker does: the earlier ones' rows
            # remembered would make every later case a run of memo hits (too fast to be true)
            strategy = MlSignal({"model": "bench", "models_dir": tmp, **params})
            out = strategy.evaluate(windows[0])  # loads the model once, as a strategy's worker does
            entries = int(out["entry_long"].sum() + out["entry_short"].sum())
            per_close, cpu = [], []
            for w in windows:
                t, c = time.perf_counter(), time.thread_time()
                strategy.evaluate(w)
                per_close.append(time.perf_counter() - t)
                cpu.append(time.thread_time() - c)
            results[f"{label} ({entries} entries in the window)"] = (sorted(per_close), cpu)
        x = feature_matrix(frame.slice(99_000, 1000), config.features)[-1:]
        from tradeterm.ml.predict import explain

        rows = feature_matrix(frame.slice(99_000, 1000), config.features)[-20:]
        t = time.perf_counter()
        explain(model, rows, 2)
        per_entry = (time.perf_counter() - t) / len(rows)
        bare = []
        for _ in range(300):
            t = time.perf_counter()
            model.predict_proba(x)
            bare.append(time.perf_counter() - t)
    ms = lambda v: 1000 * v  # noqa: E731
    for label, (per_close, cpu) in results.items():
        print(f"  inference at a close, ml_signal.evaluate on 1,000 bars, {label}: median "
              f"{ms(statistics.median(per_close)):.2f} ms wall (p95 "
              f"{ms(per_close[int(0.95 * len(per_close))]):.2f}), median "
              f"{ms(statistics.median(cpu)):.2f} ms CPU of its thread   [budget: < 5 ms]")
    print(f"  inference, model only (newest bar): median {ms(statistics.median(bare)):.2f} ms")
    print(f"  explanation (SHAP) of an entry: {ms(per_entry):.2f} ms per entry in the window")


SPOT = "binance_spot_"
FILES = (
    ("BTC/USDT 1m 2025-05-20..08-18", SPOT + "BTCUSDT_1m_2025-05-20_2025-08-18_filim.parquet", "1m"),
    ("ETH/USDT 1m 2025-05-20..08-18", SPOT + "ETHUSDT_1m_2025-05-20_2025-08-18_filim.parquet", "1m"),
    ("BTC/USDT 5m 2024-03-01..2025-07-02", SPOT + "BTCUSDT_5m_2024-03-01_2025-07-02_xylo.parquet", "5m"),
    ("ETH/USDT 1m 2021-11-11..12-11", SPOT + "ETHUSDT_1m_2021-11-11_2021-12-11_anis.parquet", "1m"),
)
MODELS = (("lgbm", "default"), ("lgbm", "scale_free"), ("logistic", "scale_free"))


def table(atr_mult: float | None = None) -> None:
    from tradeterm.indicators.candle_file import read_candle_file
    from tradeterm.ml.features import FeatureSpec
    from tradeterm.ml.labels import LabelSpec
    from tradeterm.ml.train import TrainConfig, walk_forward

    folder = shared_data()
    if folder is None:
        print("no shared/data here: the table needs the real candles")
        return
    print("| data | labels | model (features) | accuracy | majority | persistence | log loss | "
          "majority | persistence | up prec/rec | down prec/rec |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, name, tf in FILES:
        frame = read_candle_file(folder / name)
        threshold = 0.005 if tf == "5m" else 0.002
        labels = LabelSpec(5, threshold, atr_mult)
        text = f"5 bars, {atr_mult:g} ATR" if atr_mult else f"5 bars, {threshold:.1%}"
        for kind, fset in MODELS:
            cfg = TrainConfig(model=kind, features=FeatureSpec(fset, tf), labels=labels)
            r = walk_forward(frame, cfg).report
            m, a, p = r["model"], r["majority"], r["persistence"]
            up, dn = m["per_class"]["up"], m["per_class"]["down"]
            fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
            print(f"| {label} | {text} | {kind} ({fset}) | {fmt(m['accuracy'])} | "
                  f"{fmt(a['accuracy'])} | {fmt(p['accuracy'])} | {fmt(m['log_loss'])} | "
                  f"{fmt(a['log_loss'])} | {fmt(p['log_loss'])} | {fmt(up['precision'])}/"
                  f"{fmt(up['recall'])} | {fmt(dn['precision'])}/{fmt(dn['recall'])} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="walk-forward results on shared/data")
    parser.add_argument("--atr-mult", type=float, default=None,
                        help="--table with thresholds of this many ATRs instead of fractions")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--inference-only", action="store_true", help="skip the training timings")
    args = parser.parse_args()
    np.seterr(all="ignore")
    if args.table:
        table(args.atr_mult)
    else:
        timings(args.runs, train=not args.inference_only)


if __name__ == "__main__":
    main()
